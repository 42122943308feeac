"""The light run time, first steps: what only reads the library runs without torch, torchvision or
transformers (they are made unimportable in a child process), and `status` with the default models no longer
imports torch to name the detector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCKED = """
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "transformers"):
            raise ImportError(f"{name} is not installed (blocked by the test)")
        return None
sys.meta_path.insert(0, Block())
from organizer.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "heavy": [m for m in ("torch", "torchvision", "transformers") if m in sys.modules]}),
      file=sys.stderr)
sys.exit(code)
"""


def _run(code: str, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, dict]:
    proc = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "{}"
    try:
        report = json.loads(last)
    except ValueError:
        report = {}
    return proc.returncode, proc.stdout + proc.stderr, report


def test_reading_the_library_needs_no_torch(tmp_path: Path, tiny_models: Path, photo_dir: Path) -> None:
    lib = ["--library", str(tmp_path / "lib"), "--models", str(tiny_models)]
    code, out, _ = _run("import sys; from organizer.cli import main; sys.exit(main(sys.argv[1:]))",
                        "index", str(photo_dir), "--quiet", *lib)
    assert code == 0, out
    for argv in (["status"], ["search", "a cat"], ["people"], ["label", "list"], ["clusters"], ["project"],
                 ["landmarks"], ["check"], ["backup"]):
        code, out, report = _run(BLOCKED, *argv, *lib)
        assert code == 0 and report.get("heavy") == [], (argv, out[-1500:])


def test_status_with_the_default_models_does_not_import_torch(tmp_path: Path) -> None:
    """The detector's name depends on the device; asking torch for it cost `status` its import (5 s on a loaded
    machine). The answer is remembered per machine in the user cache."""
    env = {"ORGANIZER_CACHE": str(tmp_path / "cache")}
    plain = "import sys, json; from organizer.cli import main; c = main(sys.argv[1:]); " \
            "print(json.dumps({'heavy': [m for m in ('torch',) if m in sys.modules]}), file=sys.stderr); sys.exit(c)"
    assert _run(plain, "index", str(tmp_path), "--no-parts", "--quiet", "--library", str(tmp_path / "lib"),
                env=env)[0] in (0, 1)  # makes the library (no photos: the default models are not needed)
    _run(plain, "status", "--library", str(tmp_path / "lib"), env=env)  # the first run may ask torch
    code, out, report = _run(plain, "status", "--library", str(tmp_path / "lib"), env=env)
    assert code == 0 and report.get("heavy") == [], out[-1500:]
    assert "detector fasterrcnn" in out


def test_once_exported_the_models_index_and_search_by_photo_without_torch(tmp_path: Path, tiny_models: Path,
                                                                       photo_dir: Path) -> None:
    """Where CLIP's towers and the detector run on ONNX Runtime (here asked for; elsewhere measured faster and
    remembered), a run that exported them leaves what the next one needs without torch, torchvision or
    transformers: every pass of an index run (objects, OCR, faces, landmarks), people, clusters, the map and a
    search by an example photo then run with them unimportable, and the photo searched for comes first."""
    import shutil

    from tests.conftest import noise_image

    lib = ["--library", str(tmp_path / "lib"), "--models", str(tiny_models), "--backend", "onnx"]
    env = {"ORGANIZER_CACHE": str(tmp_path / "cache")}
    plain = "import sys; from organizer.cli import main; sys.exit(main(sys.argv[1:]))"
    code, out, _ = _run(plain, "index", str(photo_dir), "--quiet", *lib, env=env)  # every pass: exports made
    assert code == 0, out
    more = tmp_path / "more"
    more.mkdir()
    for i in range(3):
        noise_image(50 + i, (64, 48)).save(more / f"n{i}.png")
    code, out, report = _run(BLOCKED, "index", str(more), "--quiet", *lib, env=env)  # every pass, no torch
    assert code == 0 and report.get("heavy") == [] and "3 new photos" in out, out[-1500:]
    assert "Parts pass: 3 photos" in out and "Faces pass: 3 photos" in out, out[-1500:]
    for argv in (["people"], ["clusters", "--recompute"], ["project", "--recompute"], ["landmarks"]):
        code, out, report = _run(BLOCKED, *argv, *lib, env=env)
        assert code == 0 and report.get("heavy") == [], (argv, out[-1500:])
    query = tmp_path / "query.jpg"
    shutil.copy(photo_dir / "coffee.jpg", query)
    code, out, report = _run(BLOCKED, "search", "--image", str(query), "--json", *lib, env=env)
    assert code == 0 and report.get("heavy") == [], out[-1500:]
    first = json.JSONDecoder().raw_decode(out.lstrip())[0]["results"][0]  # stdout's JSON, then stderr
    assert first["path"].endswith("coffee.jpg")


def test_without_torch_and_without_an_export_clip_says_so(tmp_path: Path, tiny_models: Path,
                                                          photo_dir: Path) -> None:
    lib = ["--library", str(tmp_path / "lib"), "--models", str(tiny_models), "--backend", "onnx"]
    code, out, _ = _run(BLOCKED.replace('raise ImportError(f"{name} is not installed (blocked by the test)")',
                                        'raise ImportError(name)'), "index", str(photo_dir), "--no-parts", "--quiet",
                        *lib, env={"ORGANIZER_CACHE": str(tmp_path / "empty-cache")})
    assert code == 1 and "Could not load the clip model" in out and "Traceback" not in out, out[-1500:]


def test_without_torch_from_the_test_models_to_every_command(tmp_path: Path, photo_dir: Path) -> None:
    """The light run time end to end: with torch, torchvision and transformers unimportable, the offline test
    models are made (CLIP and the detector as ONNX folders from numpy weights), and index (every pass),
    search by text and by photo, people, clusters, the map and landmarks run on them."""
    env = {"ORGANIZER_CACHE": str(tmp_path / "cache")}
    models = tmp_path / "models"
    code, out, report = _run(BLOCKED, "models", "make-offline-test-set", str(models), env=env)
    assert code == 0 and report.get("heavy") == [], out[-1500:]
    assert json.loads((models / "clip" / "organizer.json").read_text())["format"] == "organizer-onnx-clip-1"
    lib = ["--library", str(tmp_path / "lib"), "--models", str(models)]
    code, out, report = _run(BLOCKED, "index", str(photo_dir), "--quiet", *lib, env=env)
    assert code == 0 and report.get("heavy") == [] and "4 new photos" in out, out[-1500:]
    assert "Parts pass: 4 photos" in out and "Faces pass: 4 photos" in out, out[-1500:]
    for argv in (["search", "a cup of coffee", "--json", "--threshold", "-10"],
                 ["search", "--image", str(photo_dir / "coffee.jpg"), "--json", "--threshold", "-10"],
                 ["people"], ["clusters"], ["project"], ["landmarks"], ["status", "--json"]):
        code, out, report = _run(BLOCKED, *argv, *lib, env=env)
        assert code == 0 and report.get("heavy") == [], (argv, out[-1500:])
        if argv[0] == "search":
            results = json.JSONDecoder().raw_decode(out.lstrip())[0]["results"]
            assert len(results) == 4
            if "--image" in argv:  # the photo itself first
                assert results[0]["path"].endswith("coffee.jpg")


def test_models_export_keeps_the_embedding_space(capsys, tmp_path: Path, tiny_models: Path, photo_dir: Path) -> None:
    """`organizer models export DIR` writes CLIP and the detector as ONNX folders giving the torch models'
    embeddings (cosine >= 0.9999) under the same keys: a library indexed with torch goes on with them, nothing
    embedded or detected again."""
    import shutil

    import numpy as np

    from organizer.cli import main
    from organizer.library import Library
    from organizer.models.clip import ClipModel
    from organizer.settings import Settings
    from tests.conftest import noise_image

    out = tmp_path / "onnx-models"
    assert main(["models", "export", str(out), "--models", str(tiny_models)]) == 0
    for role in ("ocr", "face"):
        shutil.copytree(tiny_models / role, out / role)
    torch_clip = ClipModel("x", tiny_models / "clip", backend="torch", precision="fp32")
    onnx_clip = ClipModel("x", out / "clip")
    assert onnx_clip.key == torch_clip.key and onnx_clip.path == "onnx fp32"
    images = [noise_image(i, (80, 60)) for i in range(4)]
    a, b = torch_clip.embed_images(images), onnx_clip.embed_images(images)
    assert np.min(np.sum(a * b, axis=1)) >= 0.9999
    texts = ["a dog on a beach", "CAFE ROMA", "x"]
    a, b = torch_clip.embed_texts(texts), onnx_clip.embed_texts(texts)
    assert np.min(np.sum(a * b, axis=1)) >= 0.9999
    # a library indexed with the torch models, opened with the exported ones: nothing to do again
    lib = Library(Settings.load({"library": str(tmp_path / "lib"), "models": {"dir": str(tiny_models)},
                                 "ocr": {"enabled": False}}))
    list(lib.index([str(photo_dir)]))
    lib.close()
    again = Library(Settings.load({"library": str(tmp_path / "lib"), "models": {"dir": str(out)},
                                   "ocr": {"enabled": False}}))
    assert not again.pending_work()
    summary = [e for e in again.index([str(photo_dir)])][-1]
    assert summary.new == 0 and summary.reembedded == 0 and summary.parts_done == 0
    again.close()
    capsys.readouterr()


def test_without_torch_a_search_index_asked_for_bf16_is_numpy_fp32(monkeypatch) -> None:
    """A large library on a bf16 CPU keeps its vectors as a torch bf16 tensor; without torch the same index
    is numpy float32, ranked the same (it raised ImportError at the first search)."""
    import numpy as np

    from organizer.models import ort
    from organizer.search.index import VectorIndex

    monkeypatch.setattr(ort, "torch_version", lambda: "none")
    monkeypatch.setitem(sys.modules, "torch", None)  # any import of torch fails
    idx = VectorIndex(None, "test", dtype="bf16")  # type: ignore[arg-type]
    vectors = np.eye(3, dtype=np.float32)
    idx.add_arrays(np.array([1, 2, 3]), np.array([10, 20, 30]), ["whole"] * 3, ["image"] * 3, vectors)
    assert idx.dtype_name == "fp32 (numpy)"
    assert list(np.argsort(-idx.similarities(np.array([0.1, 1.0, 0.2], np.float32)))) == [1, 2, 0]


def test_without_torch_the_training_commands_say_to_install_the_train_extra(tmp_path: Path) -> None:
    for argv in (["landmarks", "train", str(tmp_path)], ["models", "export", str(tmp_path / "onnx")]):
        code, out, _ = _run(BLOCKED, *argv, "--library", str(tmp_path / "lib"))
        assert code != 0 and "needs the train extra" in out and "pip install 'organizer[train]'" in out, out[-1500:]
        assert "Traceback" not in out and not (tmp_path / "lib").exists()  # said before anything was made


def test_without_torch_the_radius_graph_of_a_large_library_is_the_same(monkeypatch) -> None:
    """Clusters above 15,000 vectors use the pruned exact radius graph, which ran on torch only (a light
    install's `clusters` failed on a large library); without torch it runs in numpy and gives the same graph."""
    import numpy as np

    from organizer.analysis.neighbours import radius_graph
    from organizer.models import ort
    from organizer.progress import drain

    rng = np.random.default_rng(3)
    centres = rng.standard_normal((30, 64))
    x = (np.repeat(centres, 100, axis=0) + 0.35 * rng.standard_normal((3000, 64))).astype(np.float32)
    with_torch = drain(radius_graph(x, 0.2, block=512))
    monkeypatch.setattr(ort, "torch_version", lambda: "none")
    monkeypatch.setitem(sys.modules, "torch", None)  # any import of torch fails
    without = drain(radius_graph(x, 0.2, block=512))

    def pairs(rg) -> set[tuple[int, int]]:
        g = rg.graph.tocoo()
        return {(int(rg.order[i]), int(rg.order[j])) for i, j in zip(g.row, g.col, strict=True)}

    found = pairs(without)
    assert found == pairs(with_torch) and len(found) > 3000 * 2  # neighbours found, the same ones
