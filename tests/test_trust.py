"""The fault suite: nothing a user curates is lost, and no file, setting or argument crashes a run.

Each test names the item of the trust issue it covers. Faults are real where they can be without
root's privileges mattering: a full disk is SQLite's max_page_count, a read-only library a mode=ro
URI; unlistable folders and vanished drives are patched into the directory listing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from organizer.cli import main
from organizer.errors import BadArgumentError, LibraryError
from organizer.library import Library
from organizer.progress import Notice, Skipped, Stored, Summary
from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo, Store
from tests.conftest import noise_image

ROOT = Path(__file__).resolve().parents[1]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run(lib: Library, *roots: Path | str, parts: bool = False) -> tuple[Summary, list]:
    events = list(lib.index([str(r) for r in roots], parts=parts))
    return next(e for e in events if isinstance(e, Summary)), events


def one_line_no_traceback(err: str) -> None:
    assert "Traceback" not in err and err.strip(), err
    assert len([ln for ln in err.strip().splitlines() if ln.startswith("organizer")]) == 1, err


@pytest.fixture
def args(tmp_path: Path, tiny_models: Path) -> list[str]:
    s = tmp_path / "s.json"
    s.write_text(json.dumps({"ocr": {"enabled": False}, "detection": {"score_threshold": 0.0, "max_parts": 2}}))
    return ["--library", str(tmp_path / "lib"), "--models", str(tiny_models), "--settings", str(s)]


def many_photos(folder: Path, n: int, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        noise_image(seed + i, (48 + i, 40)).save(folder / f"p{i}.png")
    return folder


def label_whole(lib: Library, name: str, path: Path) -> None:
    lib.labels.add(name, lib.labels.resolve([str(path)]))


# ---- 1. forget asks first; an empty path is a bad argument -------------------------------------

def test_forget_empty_path_is_refused_and_many_photos_need_yes(capsys, args: list[str], tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 7)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    os.chdir(folder)
    for blank in ("", "  "):
        code, _, err = cli(capsys, "forget", blank, *args)
        assert code == 2 and "empty path" in err
    code, _, err = cli(capsys, "forget", str(folder), *args)  # no terminal here: --yes is needed
    assert code == 2 and "--yes" in err and "7 photos" in err
    code, out, _ = cli(capsys, "status", "--json", *args)
    assert json.loads(out)["photos"] == 7  # nothing was forgotten
    code, out, _ = cli(capsys, "forget", str(folder), "--yes", "--json", *args)
    assert code == 0 and json.loads(out)["photos"] == 7
    # a few photos go without a question
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    assert cli(capsys, "forget", str(folder / "p0.png"), *args)[0] == 0


# ---- 2. a scan never deletes: missing and offline ---------------------------------------------

def test_a_vanished_file_is_missing_with_its_labels_then_restored(make_settings, photo_dir: Path, tmp_path: Path) -> None:
    lib = Library(make_settings())
    run(lib, photo_dir)
    label_whole(lib, "Grandma", photo_dir / "astronaut.jpg")
    away = tmp_path / "away.jpg"
    shutil.move(photo_dir / "astronaut.jpg", away)
    summary, _ = run(lib, photo_dir, parts=True)
    st = lib.status()
    assert summary.missing_paths == 1 and st.photos == 4 and st.missing_photos == 1
    assert lib.labels.list()[0].photos == 1  # the label still holds the photo
    assert not lib.pending_work()  # a missing photo is not work left undone
    shutil.move(away, photo_dir / "astronaut.jpg")
    summary, _ = run(lib, photo_dir)
    assert summary.restored == 1 and lib.status().missing_photos == 0 and summary.new == 0


def test_an_empty_mount_point_is_offline_not_emptied(make_settings, photo_dir: Path, tmp_path: Path) -> None:
    lib = Library(make_settings())
    run(lib, photo_dir)
    shutil.move(photo_dir, tmp_path / "drive-contents")
    photo_dir.mkdir()  # the mount point stays as an empty folder
    summary, events = run(lib, photo_dir)
    assert summary.offline == [str(photo_dir)] and summary.missing_paths == 0
    assert any("Offline" in getattr(e, "message", "") for e in events)
    assert lib.status().photos == 4 and lib.status().missing_photos == 0


def test_an_unlistable_subfolder_loses_nothing(make_settings, photo_dir: Path, monkeypatch) -> None:
    lib = Library(make_settings())
    run(lib, photo_dir)
    real = os.scandir
    trip = str(photo_dir / "trip")

    def scandir(path: str = "."):  # noqa: ANN202 - as root chmod protects nothing: patch the listing
        if os.fspath(path) == trip:
            raise PermissionError(13, "Permission denied", trip)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    summary, events = run(lib, photo_dir)
    assert summary.missing_paths == 0 and lib.status().missing_photos == 0
    assert any(trip in getattr(e, "message", "") for e in events)


def test_prune_missing_forgets_only_missing_photos(capsys, args: list[str], tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 3)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    (folder / "p1.png").unlink()
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    code, out, _ = cli(capsys, "status", *args)
    assert "1 missing" in out and "p1.png" in out
    code, out, _ = cli(capsys, "prune", "--missing", "--older-than", "1", "--json", *args)
    assert json.loads(out)["photos"] == 0  # missing for less than a day: kept
    code, out, _ = cli(capsys, "prune", "--missing", "--json", *args)
    assert code == 0 and json.loads(out) == {"schema": "organizer.prune/1", "paths": 1, "photos": 1, "dry_run": False}
    code, out, _ = cli(capsys, "status", "--json", *args)
    assert json.loads(out)["photos"] == 2


# ---- 3. labels follow their photos and parts ----------------------------------------------------

def _photo(store: Store, path: str, h: str, dim: int = 8) -> int:
    v = np.ones(dim, np.float32) / np.sqrt(dim)
    return store.add_photos([NewPhoto(FileRef(path, 1, 1), PhotoInfo(h, 1, "PNG", 10, 10),
                                      NewPart("whole", v, "image"))], "m")[0]


def test_part_labels_survive_a_parts_rerun(tmp_path: Path) -> None:
    from organizer.store.labels import LabelStore

    store = Store(tmp_path / "lib")
    pid = _photo(store, "/p/a.png", "a")
    v = np.ones(8, np.float32) / np.sqrt(8)
    store.replace_parts(pid, [NewPart("animal", v, "image", (0.1, 0.1, 0.5, 0.5)),
                              NewPart("vehicle", v, "image", (0.6, 0.6, 0.9, 0.9))], "m", "k1")
    animal, vehicle = [p.id for p in store.parts_of(pid) if p.type != "whole"]
    labels = LabelStore(store)
    labels.add("Rex", [animal])
    labels.add("Our car", [vehicle])
    # a new detector: the animal is found again a little shifted, the car not at all
    store.replace_parts(pid, [NewPart("animal", v, "image", (0.12, 0.1, 0.52, 0.5))], "m", "k2")
    new_animal = next(p.id for p in store.parts_of(pid) if p.type == "animal")
    whole = next(p.id for p in store.parts_of(pid) if p.type == "whole")
    assert labels.members("Rex")[0] == [new_animal]
    assert labels.members("Our car")[0] == [whole]  # no match: kept at the photo, never dropped


def test_photo_labels_follow_a_file_changed_in_place_and_survive_a_failed_read(make_settings, photo_dir: Path) -> None:
    from tests.conftest import sample_image

    lib = Library(make_settings())
    run(lib, photo_dir)
    target = photo_dir / "coffee.jpg"
    label_whole(lib, "Kitchen", target)
    sample_image("coffee").rotate(90, expand=True).save(target, quality=90)  # rotated in an editor
    os.utime(target, ns=(1, 10**18))
    summary, _ = run(lib, photo_dir)
    assert summary.new == 1 and lib.labels.list()[0].photos == 1
    (pid,) = {p.photo_id for p in lib.store.parts(lib.labels.members("Kitchen")[0]).values()}
    assert lib.store.known_files()[str(target)].photo_id == pid  # the label is on the new version
    target.write_bytes(target.read_bytes()[:200])  # then the file is damaged (half copied)
    summary, _ = run(lib, photo_dir)
    assert summary.skipped == 1 and lib.status().photos == 4 and lib.labels.list()[0].photos == 1


# ---- 4. a file that vanishes mid-run is retried -----------------------------------------------

def test_a_file_that_vanishes_mid_run_is_retried_when_back(make_settings, photo_dir: Path, monkeypatch) -> None:
    import organizer.media.decode as dec
    from organizer.media.decode import SkipError, SkipReason

    real = dec.read_file
    gone = str(photo_dir / "coffee.jpg")

    def read_file(path: str, max_bytes: int, *a: float) -> bytes:
        if path == gone:
            raise SkipError(SkipReason.UNREADABLE, "the file disappeared while indexing")
        return real(path, max_bytes, *a)

    lib = Library(make_settings())
    monkeypatch.setattr(dec, "read_file", read_file)
    summary, _ = run(lib, photo_dir)
    assert summary.new == 3 and summary.skipped == 1
    monkeypatch.undo()
    summary, _ = run(lib, photo_dir)  # back, same size and time: read again
    assert summary.new == 1 and lib.status().photos == 4


# ---- 5. backups, check, restore ---------------------------------------------------------------

def test_backup_check_and_restore(capsys, args: list[str], tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 3)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    assert cli(capsys, "label", "add", "Mine", str(folder / "p0.png"), *args)[0] == 0
    code, out, _ = cli(capsys, "status", "--json", *args)
    assert json.loads(out)["backups"] == 1  # a label changed: backed up at close
    assert cli(capsys, "check", *args)[0] == 0
    db = tmp_path / "lib" / "library.sqlite3"
    raw = bytearray(db.read_bytes())
    raw[4096 * 2: 4096 * 6] = b"\xff" * (4096 * 4)  # damage some pages
    db.write_bytes(bytes(raw))
    code, _, err = cli(capsys, "label", "add", "Other", str(folder / "p1.png"), *args)
    assert code == 1 and "damaged" in err and "organizer restore" in err
    one_line_no_traceback(err)
    code, out, _ = cli(capsys, "restore", *args)
    assert code == 0 and "Restored" in out
    code, out, _ = cli(capsys, "label", "list", "--json", *args)
    assert [x["name"] for x in json.loads(out)["labels"]] == ["Mine"]
    assert cli(capsys, "check", *args)[0] == 0


def test_a_lost_wal_never_silently_empties_a_library(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    run(lib, photo_dir)
    lib.backup("manual")
    lib.close()
    db = lib.store.path
    db.write_bytes(b"")  # what is left of a never-checkpointed database once its -wal file is deleted
    with pytest.raises(LibraryError, match="lost its contents.*Newest backup"):
        Library(make_settings())
    assert db.stat().st_size == 0  # nothing was created over it


def test_a_schema_upgrade_is_backed_up_first(tmp_path: Path) -> None:
    import sqlite3

    from organizer.store import backup
    from organizer.store.migrations import V1, V2, V3, V4

    (tmp_path / "lib").mkdir()
    conn = sqlite3.connect(tmp_path / "lib" / "library.sqlite3")
    for ddl in (*V1, *V2, *V3, *V4):  # a real version-4 library with a label
        conn.execute(ddl)
    conn.execute("INSERT INTO photos(hash, size, format, width, height, added_at) VALUES ('h',1,'JPEG',1,1,'2020-01-01')")
    conn.execute("INSERT INTO paths(path, photo_id, size, mtime_ns) VALUES ('/p/a.jpg', 1, 1, 1)")
    conn.execute("INSERT INTO parts(photo_id, type, x0, y0, x1, y1) VALUES (1, 'whole', 0, 0, 1, 1)")
    conn.execute("INSERT INTO labels(name, created_at) VALUES ('Grandma', '2020-01-01')")
    conn.execute("INSERT INTO label_members(label_id, part_id, positive) VALUES (1, 1, 1)")
    conn.execute("INSERT INTO meta(key, value) VALUES ('schema_version', '4')")
    conn.commit()
    conn.close()
    store = Store(tmp_path / "lib")
    from organizer.store.schema import SCHEMA_VERSION

    assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
    assert [b.name for b in backup.backups(tmp_path / "lib")][0].endswith(f"before-schema-{SCHEMA_VERSION}.sqlite3")
    assert store.count_needing_faces("any-key") == 1  # the new faces pass will look at the old photo
    from organizer.store.labels import LabelStore

    assert LabelStore(store).list()[0].photos == 1


# ---- 6. finetune checkpoints rotate atomically ------------------------------------------------

def test_a_kill_during_a_checkpoint_save_leaves_one_whole(tmp_path: Path, monkeypatch) -> None:
    import torch

    from organizer.training import finetune as ft

    model = torch.nn.Linear(4, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    cfg = ft.FinetuneConfig(steps=4)
    ck = tmp_path / "out" / ft.CHECKPOINT
    ft._checkpoint(ck, model, opt, 1, {"target": 0.0}, [1.0], cfg, "m")
    real = os.replace
    calls = []

    def killed(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 2:  # the old one moved aside, the new one not yet in place
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        ft._checkpoint(ck, model, opt, 2, {"target": 0.0}, [1.0, 0.5], cfg, "m")
    monkeypatch.undo()
    assert not ck.exists()
    states = [ft._load_checkpoint(c, model, opt, "cpu", cfg, "m")
              for c in (ck, ck.with_name(ck.name + ft.PREVIOUS))]
    assert states[0] is None and states[1]["step"] == 1  # the previous checkpoint resumes the run
    (tmp_path / "out" / "checkpoint.tmp" / "state.json").write_text("{")  # a torn new one is never used
    ft._checkpoint(ck, model, opt, 3, {"target": 0.0}, [1.0], cfg, "m")
    assert ft._load_checkpoint(ck, model, opt, "cpu", cfg, "m")["step"] == 3
    assert not ck.with_name(ck.name + ft.PREVIOUS).exists()


def test_finetune_refuses_bad_arguments_and_skips_non_images(capsys, args: list[str], tmp_path: Path) -> None:
    target, bg = tmp_path / "t", tmp_path / "bg"
    many_photos(target / "Rex", 1)
    many_photos(bg / "sky", 3)
    (bg / "sky" / "notes.jpg").write_text("not an image")
    code, _, err = cli(capsys, "finetune", str(target), "--background", str(bg), "--checkpoint-every", "0", *args)
    assert code == 2 and "--checkpoint-every" in err
    code, _, err = cli(capsys, "finetune", str(target), "--background", str(bg), "--steps", "1", *args)
    assert code == 2 and "at least two readable images" in err
    many_photos(target / "Bella", 2, seed=50)
    code, out, err = cli(capsys, "finetune", str(target), "--background", str(bg), "--steps", "1", "--batch", "2",
                         "--json", *args)
    assert code == 0, err
    assert json.loads(out)["skipped"] == [str(bg / "sky" / "notes.jpg")]


# ---- 7. eval never replaces train's embedding cache -------------------------------------------

def test_embedding_cache_keeps_other_files_and_eval_does_not_write(tmp_path: Path, tiny_models: Path) -> None:
    from organizer.models.clip import ClipModel
    from organizer.progress import drain
    from organizer.training.data import Item, embed_items

    clip = ClipModel("clip", tiny_models / "clip", "cpu")
    items = [Item(str(p), "a", "a") for p in sorted(many_photos(tmp_path / "d", 4).iterdir())]
    cache = tmp_path / "embeddings.npz"

    def cached() -> set[str]:
        with np.load(cache) as z:
            return {str(p) for p in z["paths"]}

    drain(_last(embed_items(items, clip, cache)))
    assert cached() == {i.path for i in items}
    drain(_last(embed_items(items[:1], clip, cache, write_cache=False)))
    assert cached() == {i.path for i in items}
    drain(_last(embed_items(items[:2], clip, cache)))  # a subset keeps the others
    assert cached() == {i.path for i in items}


def _last(gen):  # noqa: ANN001, ANN202
    yield from gen


# ---- 8. names that are not UTF-8 ------------------------------------------------------------

@pytest.mark.skipif(sys.platform != "linux", reason="POSIX byte names")
def test_latin1_file_names_are_stored_shown_and_forgotten(capsys, args: list[str], tmp_path: Path) -> None:
    folder = tmp_path / "card"
    folder.mkdir()
    name = os.fsencode(folder) + b"/caf\xe9 \xef\x9e\x80.png"  # Latin-1 e-acute, and a real U+F780
    noise_image(1).save(name.decode("utf-8", "surrogateescape"), format="PNG")
    noise_image(2).save(folder / "plain.png")
    code, out, err = cli(capsys, "index", str(folder), "--no-parts", *args)
    assert code == 0, err
    code, out, _ = cli(capsys, "search", "caf", *args)
    assert code == 0 and "caf\ufffd" in out
    code, out, _ = cli(capsys, "status", "--json", *args)
    assert json.loads(out)["photos"] == 2
    lib_store = Store(tmp_path / "lib")
    stored = {p for p in lib_store.known_files() if "caf" in p}
    assert {os.fsencode(p) for p in stored} == {name}  # losslessly the bytes on disk
    lib_store.close()
    code, out, _ = cli(capsys, "index", str(folder), "--no-parts", "--json", *args)
    assert json.loads(out)["unchanged"] == 2
    code, out, _ = cli(capsys, "forget", name.decode("utf-8", "surrogateescape"), "--json", *args)
    assert code == 0 and json.loads(out) == {"schema": "organizer.forget/1", "paths": 1, "photos": 1}


# ---- 9. any decoder failure is a skip ----------------------------------------------------------

def test_a_decoder_raising_anything_is_a_skip_and_warnings_go_to_the_log(make_settings, photo_dir: Path,
                                                                         monkeypatch, capfd) -> None:
    import warnings

    import organizer.media.decode as dec

    real = dec._decode

    def odd(data: bytes, *a: object):  # noqa: ANN202
        warnings.warn("Possibly corrupt EXIF data", UserWarning, stacklevel=1)
        if data[:4] == b"RIFF":  # the WebP file: a plugin failing its own way
            raise NotImplementedError("Unsupported DDS pixel format")
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            raise KeyError("struct")
        return real(data, *a)

    monkeypatch.setattr(dec, "_decode", odd)
    lib = Library(make_settings())
    summary, events = run(lib, photo_dir)
    skips = {Path(e.path).name: (e.reason, e.detail) for e in events if isinstance(e, Skipped)}
    assert summary.new == 2 and skips["rocket.webp"][0] == "unsupported image format"
    assert "KeyError" in skips["chelsea.png"][1]
    assert "corrupt EXIF" not in capfd.readouterr().err
    log = (lib.store.folder / "logs" / "organizer.log").read_text()
    assert "Possibly corrupt EXIF data" in log


# ---- 10. writes on a read-only or damaged library: one line -----------------------------------

def test_writes_on_a_read_only_library_are_one_line(capsys, args: list[str], tmp_path: Path, monkeypatch) -> None:
    import organizer.library.base as library  # where Library opens its Store

    folder = many_photos(tmp_path / "photos", 3)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    monkeypatch.setattr(library, "Store", lambda folder, read_only=False, create=True: Store(folder, read_only=True))
    for cmd in (["forget", str(folder / "p0.png")], ["label", "add", "X", str(folder / "p1.png")],
                ["clusters"], ["project"], ["index", str(folder)]):
        code, _, err = cli(capsys, *cmd, *args)
        assert code == 1 and "read-only" in err, (cmd, err)
        one_line_no_traceback(err)
    code, out, _ = cli(capsys, "search", "p1", *args)  # reading still works
    assert code == 0 and "p1.png" in out


def test_a_full_disk_outside_index_is_one_line(capsys, args: list[str], tmp_path: Path, monkeypatch) -> None:
    import sqlite3

    from sqlalchemy import event

    import organizer.library.base as library  # where Library opens its Store

    folder = many_photos(tmp_path / "photos", 120)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    with sqlite3.connect(tmp_path / "lib" / "library.sqlite3") as c:
        c.execute("VACUUM")  # no free pages left: whatever grows needs a new one

    def full_store(*a: object, **k: object) -> Store:
        s = Store(*a, **k)
        pages = sqlite3.connect(s.path).execute("PRAGMA page_count").fetchone()[0]
        event.listen(s.engine, "connect", lambda c, _r: c.execute(f"PRAGMA max_page_count = {pages}"))
        s.engine.dispose()
        return s

    monkeypatch.setattr(library, "Store", full_store)
    code, _, err = cli(capsys, "project", "--json", *args)
    assert code == 1 and "is full" in err and "Free some space" in err
    one_line_no_traceback(err)


# ---- 11, 12. several processes ----------------------------------------------------------------

def _py(code: str, *argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *argv], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "ORGANIZER_DEBUG": "1"})


def test_processes_creating_one_library_at_once(tmp_path: Path) -> None:
    code = "import sys; from organizer.store.db import Store; Store(sys.argv[1]).close(); print('ok')"
    procs = [_py(code, str(tmp_path / "lib")) for _ in range(6)]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), results


def test_two_indexers_on_one_library_cooperate(tmp_path: Path, tiny_models: Path) -> None:
    folder = many_photos(tmp_path / "photos", 12)
    argv = ["index", str(folder), "--library", str(tmp_path / "lib"), "--models", str(tiny_models), "--no-parts",
            "--json"]
    code = "import sys; from organizer.cli import main; sys.exit(main(sys.argv[1:]))"
    procs = [_py(code, *argv) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n=====\n".join(e for _, e in results)
    runs = [json.loads(out) for out, _ in results]
    assert sorted(r["new"] for r in runs) == [0, 12]  # one did the work, the other waited and found it done
    store = Store(tmp_path / "lib")
    assert store.stats().photos == 12 and store.stats().paths == 12


# ---- 13. settings ----------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "message"), [
    (b"[1, 2]", "must hold a JSON object"), (b"null", "not null"), (b'"x"', "not str"),
    (b"\xff\xfe{}", "not UTF-8"), (b"{", "not valid JSON"),
    (b'{"clusters": {"eps": 0}}', "clusters.eps"), (b'{"clusters": {"min_samples": 0}}', "clusters.min_samples"),
    (b'{"projection": {"perplexity": -1}}', "projection.perplexity"),
    (b'{"projection": {"max_iter": 0}}', "projection.max_iter"), (b'{"projection": {"sample": 0}}', "projection.sample"),
    (b'{"search": {"weights": {"person": NaN}}}', "search.weights"), (b'{"search": {"threshold": Infinity}}',
                                                                      "search.threshold"),
])
def test_bad_settings_files_are_one_clear_error(capsys, tmp_path: Path, content: bytes, message: str) -> None:
    s = tmp_path / "s.json"
    s.write_bytes(content)
    code, _, err = cli(capsys, "status", "--settings", str(s), "--library", str(tmp_path / "lib"))
    assert code == 2 and message in err and "http" not in err and "Traceback" not in err, err


def test_a_settings_path_that_is_no_file_is_refused(capsys, tmp_path: Path) -> None:
    for bad in (tmp_path / "nope.json", tmp_path):
        code, _, err = cli(capsys, "status", "--settings", str(bad), "--library", str(tmp_path / "lib"))
        assert code == 2 and "--settings" in err


# ---- 14. arguments and pipes -------------------------------------------------------------------

def test_export_destination_is_checked_before_the_work(capsys, args: list[str], tmp_path: Path) -> None:
    for bad in (tmp_path / "no" / "map.csv", tmp_path, tmp_path / "map.txt"):
        code, _, err = cli(capsys, "project", "--export", str(bad), *args)
        assert code == 2 and "--export" in err
    assert not (tmp_path / "lib").exists()  # refused before the library was even opened


def test_empty_library_argument_and_closed_pipe(capsys, args: list[str], tmp_path: Path, tiny_models: Path) -> None:
    code, _, err = cli(capsys, "status", "--library", "")
    assert code == 2 and "--library" in err
    folder = many_photos(tmp_path / "photos", 30)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    run_cli = "from organizer.cli import main; import sys; sys.exit(main(sys.argv[1:]))"
    p = subprocess.run(f"{sys.executable} -c '{run_cli}' search p --top 30 {' '.join(args)} | head -1",
                       shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.stdout.count("\n") == 1 and "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr, p.stderr


# ---- 15. training data that is odd -------------------------------------------------------------

def test_landmark_data_linked_from_outside_and_unsafe_ids(tmp_path: Path) -> None:
    from organizer.training.data import read_dataset

    gl = tmp_path / "gld"
    gl.mkdir()
    for bad in ("../../x", "a/b/c/d", "ab"):
        (gl / "train.csv").write_text(f"id,landmark_id\n{bad},1\n")
        with pytest.raises(BadArgumentError, match="not plain ids"):
            read_dataset(gl)


def test_landmark_training_with_an_image_linked_from_outside(capsys, args: list[str], tmp_path: Path) -> None:
    data = tmp_path / "data"
    many_photos(data / "Tower", 3)
    many_photos(data / "Bridge", 3, seed=40)
    outside = many_photos(tmp_path / "elsewhere", 1, seed=80) / "p0.png"
    (data / "Tower" / "linked.png").symlink_to(outside)
    code, out, err = cli(capsys, "landmarks", "train", str(data), "--min-count", "1", "--epochs", "2",
                         "--near-duplicates", "0", "--out", str(tmp_path / "head"), "--json", *args)
    assert code == 0, err
    split = json.loads((tmp_path / "head" / "split.json").read_text())
    paths = [p for rows in split["splits"].values() for p, _ in rows]
    assert "Tower/linked.png" in paths and not any(p.startswith("..") for p in paths)


# ---- 16, 17. passes always finish; index with no paths resumes a scan ---------------------------

def test_photos_that_fail_in_a_later_pass_are_marked_done(make_settings, photo_dir: Path, monkeypatch) -> None:
    import organizer.pipeline.rereading as ix  # where the later passes decode

    lib = Library(make_settings())
    run(lib, photo_dir)
    real = ix.load
    monkeypatch.setattr(ix, "load", lambda path, *a, **k: (_ for _ in ()).throw(OSError("I/O error"))
                        if path.endswith("coffee.jpg") else real(path, *a, **k))
    summary, _ = run(lib, parts=True)
    st = lib.status()
    assert summary.failed == 1 and st.parts_pass_done + st.parts_pass_failed == st.photos == 4
    assert st.faces_pass_done == 4  # the faces pass could not read it either: done for its key too
    assert not lib.pending_work()


def test_index_without_paths_resumes_an_interrupted_scan(make_settings, tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 10)
    lib = Library(make_settings())
    gen = lib.index([str(folder)], parts=False)
    for ev in gen:
        if isinstance(ev, Stored):
            break  # cancelled (or killed) after the first batch
    gen.close()
    assert lib.status().photos == 4 and lib.pending_roots() == [str(folder)]
    summary, events = run(lib)
    assert any(isinstance(e, Notice) and "Resuming" in e.message for e in events)
    assert summary.new == 6 and lib.status().photos == 10 and lib.pending_roots() == []


# ---- 18. settings that change a result redo that result ---------------------------------------

def test_landmark_threshold_and_ocr_gate_are_in_the_rework_keys(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    run(lib, photo_dir)
    key = lib.landmarks_key()
    assert lib.store.count_needing_landmarks(key) == 0
    other = Library(make_settings(landmarks={"threshold": 0.9}))
    assert other.landmarks_key() != key and other.store.count_needing_landmarks(other.landmarks_key()) == 4
    run(other, photo_dir)
    assert other.store.count_needing_landmarks(other.landmarks_key()) == 0
    a = Library(make_settings(ocr={"enabled": True, "gate": "clip"})).models.parts_key()
    b = Library(make_settings(ocr={"enabled": True, "gate": "none"})).models.parts_key()
    assert a != b


# ---- 19. the vector index under concurrent searches --------------------------------------------

def test_concurrent_syncs_never_duplicate_rows(make_settings, photo_dir: Path, monkeypatch) -> None:
    from organizer.search import index as index_module
    from organizer.search.index import VectorIndex

    monkeypatch.setattr(index_module, "LOAD_BATCH", 3)  # the store is read in batches: 3 rows, then 1
    lib = Library(make_settings())
    run(lib, photo_dir)
    index = VectorIndex(lib.store, lib.models.clip.key)
    barrier = threading.Barrier(8)

    def sync() -> None:
        barrier.wait()
        for _ in range(20):
            index.sync()

    threads = [threading.Thread(target=sync) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(index) == len(set(index.part_ids.tolist())) == 4


# ---- 20. a truncated download is never installed -----------------------------------------------

def test_a_truncated_or_wrong_download_is_not_installed(tmp_path: Path) -> None:
    import http.server

    from organizer.errors import ModelUnavailableError
    from organizer.models.download import download_file

    body = b"x" * 50_000

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) * 2))  # then closes early
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    dest = tmp_path / "fasterrcnn-0123abcd.pth"
    with pytest.raises(ModelUnavailableError, match="stopped at|download failed"):
        list(download_file(f"http://127.0.0.1:{server.server_port}/w.pth", dest, "detector"))
    assert not dest.exists()
    server.server_close()

    class Whole(Handler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.HTTPServer(("127.0.0.1", 0), Whole)
    threading.Thread(target=server.handle_request, daemon=True).start()
    (dest.with_name(dest.name + ".part")).unlink(missing_ok=True)
    with pytest.raises(ModelUnavailableError, match="damaged"):  # the name's hash does not match
        list(download_file(f"http://127.0.0.1:{server.server_port}/w.pth", dest, "detector"))
    assert not dest.exists()
    server.server_close()


# ---- 22. symbolic links and long names ----------------------------------------------------------

def test_symlinked_roots_and_folders_and_long_paths(make_settings, photo_dir: Path, tmp_path: Path) -> None:
    link = tmp_path / "link-to-photos"
    link.symlink_to(photo_dir)
    extra = many_photos(tmp_path / "extra", 2, seed=70)
    (photo_dir / "trip" / "extra-link").symlink_to(extra)
    (photo_dir / "trip" / "loop").symlink_to(photo_dir)  # a loop of links
    fd = os.open(photo_dir, os.O_RDONLY)
    for _ in range(18):  # 18 folders of 250 characters: past the system's 4096 in total
        os.mkdir("d" * 250, dir_fd=fd)
        fd, old = os.open("d" * 250, os.O_RDONLY, dir_fd=fd), fd
        os.close(old)
    os.close(os.open("deep.png", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
    os.close(fd)
    lib = Library(make_settings())
    summary, events = run(lib, link)
    assert summary.new == 6  # the four photos and the two behind the folder link, each once
    assert any("longer than the system allows" in getattr(e, "message", "") for e in events)
    summary, _ = run(lib, photo_dir)
    st = lib.status()
    assert summary.new == 0 and st.paths == 6  # the same folder through its link and directly: one path each


# ---- kill -9 during a label write and during a checkpoint save ----------------------------------

LABEL_WRITER = """
import sys
from organizer.store.db import Store
from organizer.store.labels import LabelStore
store = Store(sys.argv[1])
labels = LabelStore(store)
whole = [p for p in range(1, 41)]
for i in range(100000):
    labels.add(f"L{i % 7}", [whole[i % 40]], positive=bool(i % 2))
    print(i, flush=True)
"""

CHECKPOINTER = """
import sys, torch
from pathlib import Path
from organizer.training import finetune as ft
model = torch.nn.Linear(64, 64)
opt = torch.optim.AdamW(model.parameters(), lr=0.1)
for step in range(1, 100000):
    ft._checkpoint(Path(sys.argv[1]), model, opt, step, {"target": 0.0}, [1.0], ft.FinetuneConfig(), "m")
    print(step, flush=True)
"""


def _kill_after(code: str, arg: str, lines: int) -> list[str]:
    import signal

    p = subprocess.Popen([sys.executable, "-c", code, arg], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    done = []
    assert p.stdout is not None
    while len(done) < lines:
        line = p.stdout.readline()
        assert line, "the writer ended early"
        done.append(line.strip())
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    return done


def test_kill_9_during_label_writes_loses_no_finished_write(tmp_path: Path) -> None:
    from organizer.store.labels import LabelStore

    store = Store(tmp_path / "lib")
    for i in range(40):
        _photo(store, f"/p/{i}.png", f"h{i}")
    store.close()
    done = _kill_after(LABEL_WRITER, str(tmp_path / "lib"), 150)
    store = Store(tmp_path / "lib")
    assert store.check().ok
    last = int(done[-1])
    labels = LabelStore(store)
    members = {name: set(labels.members(name)[0]) | set(labels.members(name)[1]) for name in labels.names()}
    whole_of = {p.photo_id: p.id for p in store.parts(range(1, 200)).values() if p.type == "whole"}
    for i in range(last + 1):  # every add that returned before the kill is there
        assert whole_of[(i % 40) + 1] in members[f"L{i % 7}"]


def test_kill_9_during_checkpoint_saves_leaves_a_whole_one(tmp_path: Path) -> None:
    import torch

    from organizer.training import finetune as ft

    ck = tmp_path / "out" / ft.CHECKPOINT
    done = _kill_after(CHECKPOINTER, str(ck), 25)
    model = torch.nn.Linear(64, 64)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    states = [ft._load_checkpoint(c, model, opt, "cpu", ft.FinetuneConfig(), "m")
              for c in (ck, ck.with_name(ck.name + ft.PREVIOUS))]
    newest = max(s["step"] for s in states if s is not None)
    assert newest >= int(done[-1])  # a whole checkpoint at least as new as the last one reported saved


def test_an_int8_index_shows_the_float32_order_and_scores(make_settings, photo_dir: Path) -> None:
    """A large library's index is int8; the photos it would show are scored again from their stored vectors, so
    the order and the scores are float32's (int8 alone moves a similarity by about 0.002 here)."""
    from organizer.search.engine import SearchQuery
    from organizer.search.index import VectorIndex

    lib = Library(make_settings())
    run(lib, photo_dir, parts=True)
    query = SearchQuery(text="a red square", threshold=-10.0)
    plain = lib.search(query)
    assert lib.searcher.index.dtype_name == "fp32 (numpy)"
    lib.searcher.index = VectorIndex(lib.store, lib.searcher.index.model_key, dtype="int8")
    results = lib.search(query)
    assert lib.searcher.index.dtype_name == "int8 (numkong)" and lib.searcher.index.approximate
    assert [r.photo_id for r in results] == [r.photo_id for r in plain]
    for r, p in zip(results, plain, strict=True):
        assert r.score == pytest.approx(p.score, abs=1e-6)
        assert [x.part_id for x in r.parts] == [x.part_id for x in p.parts]
        assert [x.similarity for x in r.parts] == pytest.approx([x.similarity for x in p.parts], abs=1e-6)
