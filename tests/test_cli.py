from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from organizer.cli import main
from organizer.store.db import Store


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def lib_args(tmp_path: Path, tiny_models: Path) -> list[str]:
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps({"ocr": {"enabled": False}, "detection": {"score_threshold": 0.0, "max_parts": 2}}))
    Store(tmp_path / "lib").close()  # an empty library: only `index` makes one
    return ["--library", str(tmp_path / "lib"), "--models", str(tiny_models), "--settings", str(settings)]


def test_index_search_status_forget_json(capsys, lib_args: list[str], photo_dir: Path) -> None:
    (photo_dir / "bad.jpg").write_text("nope")
    code, out, _ = cli(capsys, "index", str(photo_dir), "--json", *lib_args)
    assert code == 0
    idx = json.loads(out)
    assert idx["schema"] == "organizer.index/1" and idx["new"] == 4 and idx["skipped"] == 1
    assert idx["skipped_files"][0]["reason"] == "not an image"

    code, out, _ = cli(capsys, "search", "a cat", "--top", "2", "--weights", "person=2,whole=1", "--json", *lib_args)
    assert code == 0
    res = json.loads(out)
    assert res["schema"] == "organizer.search/1" and res["query"]["weights"] == {"person": 2.0, "whole": 1.0}
    assert len(res["results"]) == 2 and res["results"][0]["rank"] == 1
    r = res["results"][0]
    assert set(r) >= {"photo_id", "score", "path", "paths", "parts", "keyword_score"}
    for p in r["parts"]:
        assert set(p) >= {"type", "box", "score", "text"} and len(p["box"]) == 4
        assert all(0.0 <= x <= 1.0 for x in p["box"])
    assert res["results"][0]["score"] >= res["results"][1]["score"]

    code, out, _ = cli(capsys, "search", "--image", str(photo_dir / "astronaut.jpg"), "--top", "1", *lib_args)
    assert code == 0 and "astronaut.jpg" in out

    code, out, _ = cli(capsys, "status", "--json", *lib_args)
    st = json.loads(out)
    assert st["schema"] == "organizer.status/1" and st["photos"] == 4
    assert st["whole_pass_done"] == 4 and st["parts_pass_done"] == 4
    assert st["skipped"] == {"not an image": 1}

    code, out, _ = cli(capsys, "status", *lib_args)
    assert "Skipped files: 1" in out and "bad.jpg" in out

    code, out, _ = cli(capsys, "forget", str(photo_dir / "trip"), *lib_args)
    assert code == 0 and "2 photos left" in out
    code, out, _ = cli(capsys, "status", "--json", *lib_args)
    assert json.loads(out)["photos"] == 2


@pytest.mark.parametrize("args, message", [
    (["search", "x", "--weights", "dragon=2"], "Unknown part type 'dragon'"),
    (["search", "x", "--top", "0"], "--top must be at least 1"),
    (["search"], "either a text query or --image"),
    (["search", "x", "--image", "/no/such.jpg"], "either a text query or --image"),
    (["search", "--image", "/no/such.jpg"], "Query image not found"),
    (["forget", "/no/such/folder"], "Nothing in the library"),
    (["index", "/no/such/folder"], "None of the given folders"),
])
def test_bad_arguments_give_one_clear_line(capsys, lib_args: list[str], args: list[str], message: str) -> None:
    code, out, err = cli(capsys, *args, *lib_args)
    assert code == 2 and message in err and "Traceback" not in err


def test_unparseable_arguments_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["search", "x", "--threshold", "high"])
    assert e.value.code == 2


def test_missing_clip_folder_names_the_model_and_the_fix(capsys, tmp_path: Path) -> None:
    Store(tmp_path / "lib").close()
    code, _, err = cli(capsys, "search", "x", "--library", str(tmp_path / "lib"), "--clip-model",
                       str(tmp_path / "no-clip"))
    assert code == 1 and "clip" in err and "no-clip" in err and "--clip-model" in err and "Traceback" not in err


def test_unreachable_hub_model_is_one_message(tmp_path: Path) -> None:
    """A hub id with no cache and no network: one message, no traceback, in a real process."""
    Store(tmp_path / "lib").close()
    proc = subprocess.run(
        [sys.executable, "-m", "organizer", "search", "x", "--library", str(tmp_path / "lib"),
         "--clip-model", "openai/clip-vit-base-patch32"],
        capture_output=True, text=True, timeout=120,
        env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PATH": "/usr/bin:/bin",
             "HOME": str(tmp_path)},
    )
    assert proc.returncode == 1
    assert "Could not load the clip model 'openai/clip-vit-base-patch32'" in proc.stderr
    assert "--models DIR" in proc.stderr and "Traceback" not in proc.stderr


def test_broken_detector_folder_is_one_message(capsys, tmp_path: Path, tiny_models: Path, photo_dir: Path) -> None:
    broken = tmp_path / "det"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    code, _, err = cli(capsys, "index", str(photo_dir), "--library", str(tmp_path / "lib"), "--models",
                       str(tiny_models), "--detector-model", str(broken), "--quiet", "--no-ocr")
    assert code == 1 and "detector" in err and "config.json" in err


def test_help_lists_the_commands(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and "index" in out and "search" in out and "gui" in out


def test_make_offline_test_set(capsys, tmp_path: Path) -> None:
    code, out, _ = cli(capsys, "models", "make-offline-test-set", str(tmp_path / "m"))
    assert code == 0 and "rank meaninglessly" in out
    assert (tmp_path / "m" / "clip" / "vocab.json").is_file()
    assert (tmp_path / "m" / "detector" / "model.safetensors").is_file()


def test_relocate_a_moved_folder(tmp_path: Path, capsys, tiny_models: Path) -> None:
    import shutil

    from tests.conftest import noise_image

    src = tmp_path / "old" / "trip"
    src.mkdir(parents=True)
    for i in range(3):
        noise_image(i).save(src / f"{i}.png")
    args = ["--library", str(tmp_path / "lib"), "--models", str(tiny_models)]
    assert main(["index", str(src), "--no-parts", "--quiet", *args]) == 0
    new = tmp_path / "new" / "trip"
    new.parent.mkdir()
    shutil.move(str(src), str(new))
    capsys.readouterr()
    assert main(["relocate", str(src), str(new), *args]) == 0
    assert "3 files found" in capsys.readouterr().out
    assert main(["status", "--json", *args]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["photos"] == 3 and st["missing_photos"] == 0 and st["missing_paths"] == 0
    assert main(["relocate", str(tmp_path / "nowhere"), str(new), *args]) == 2


def test_settings_flags_take_type_choices_default_and_bounds_from_the_settings_model(capsys) -> None:
    """The CLI's settings flags are built from the settings model's fields (no second copy of a bound or a
    choice to drift): the help shows the model's default and range, the choices are its Literal's values, and a
    value out of range is refused by the model with the flag named as given on the command line."""
    from organizer.settings import ClusterSettings, field_spec

    with pytest.raises(SystemExit):
        main(["clusters", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    eps = ClusterSettings.model_fields["eps"]
    assert f"(default {eps.default}; 0 < x <= 2)" in out and "(default 2; 1 <= x <= 10,000)" in out
    assert field_spec("models.precision").choices == ("auto", "fp32", "bf16", "int8")
    with pytest.raises(SystemExit):
        main(["search", "x", "--precision", "int4"])
    assert "invalid choice: 'int4'" in capsys.readouterr().err
    assert field_spec("search.top_k").bounds() == "at least 1" and field_spec("search.top_k").type is int
    assert field_spec("library").type is str and field_spec("ocr.gate").choices == ("clip", "none")
