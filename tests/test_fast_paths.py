"""The CPU paths: ONNX Runtime gives torch's embeddings, int8 never mixes with fp32, bf16 only where the
CPU has it, and the measured choice is made once per model and machine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from organizer.library import Library
from organizer.models.clip import ClipModel
from organizer.progress import Summary
from tests.conftest import noise_image, sample_image


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_onnx_towers_give_torchs_embeddings(tiny_models: Path) -> None:
    torch_clip = ClipModel("clip", tiny_models / "clip", "cpu", "fp32", backend="torch")
    onnx_clip = ClipModel("clip", tiny_models / "clip", "cpu", "fp32", backend="onnx")
    assert torch_clip.path == "torch fp32" and onnx_clip.path == "onnx fp32"
    assert onnx_clip.key == torch_clip.key  # the same embedding space
    images = [sample_image(n) for n in ("astronaut", "coffee", "chelsea")] + [noise_image(3)]
    a, b = torch_clip.embed_images(images), onnx_clip.embed_images(images)
    assert _cos(a, b).min() >= 0.9999
    texts = ["a cat", "the Eiffel Tower at night in the rain", "x", "a photo of a sign with text on it"]
    a, b = torch_clip.embed_texts(texts), onnx_clip.embed_texts(texts)
    assert _cos(a, b).min() >= 0.9999


def test_int8_is_its_own_embedding_space(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    list(lib.index([str(photo_dir)], parts=False))
    fp32_key = lib.models.clip.key
    q = Library(make_settings(models={"precision": "int8"}))
    assert q.models.clip.key == fp32_key + "+int8" and q.models.clip.path == "onnx int8"
    events = list(q.index([], parts=False))
    summary = next(e for e in events if isinstance(e, Summary))
    assert summary.reembedded == 4  # every photo embedded again, in its own space
    st = q.store.stats()
    assert st.vectors_by_model == {fp32_key + "+int8": 4}  # replaced, never mixed
    q.searcher.index.sync()
    assert len(q.searcher.index) == 4  # a search reads one space only
    a = lib.models.clip.embed_images([sample_image("coffee")])
    b = q.models.clip.embed_images([sample_image("coffee")])
    assert _cos(a, b)[0] > 0.9  # close, but not taken for the same vector


def test_bf16_only_where_the_cpu_has_it(monkeypatch) -> None:
    from organizer.models import base, cpu

    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512bw"}))
    assert not base.bf16_native("cpu")  # AVX-512 without BF16: emulated, slower than fp32
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert base.bf16_native("cpu")


def test_the_measured_choice_is_made_once(tiny_models: Path, monkeypatch, tmp_path: Path) -> None:
    from organizer.models import cpu, ort

    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2", "fma"}))  # no native bf16: measure
    calls = []
    real = ort.time_per_item
    monkeypatch.setattr(ort, "time_per_item", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = ClipModel("clip", tiny_models / "clip", "cpu", "auto")
    first.load()
    assert len(calls) == 1 and first.path in ("torch fp32", "onnx fp32")  # both paths, taking turns
    again = ClipModel("clip", tiny_models / "clip", "cpu", "auto")
    again.load()
    assert len(calls) == 1 and again.path == first.path  # remembered for this model and machine
    assert (tmp_path / "cache" / "onnx").is_dir()


def test_a_moment_of_load_does_not_decide_the_measured_choice() -> None:
    """The machine is busy for the first four calls (another program, a test run): the paths take turns, so
    the faster one is still found (measured one after the other, the busy spell fell on the first alone)."""
    import time

    from organizer.models import ort

    calls = []

    def busy() -> bool:
        calls.append(1)
        return len(calls) <= 4

    fast, slow = ort.time_per_item(lambda b: time.sleep(0.04 if busy() else 0.005),
                                   lambda b: time.sleep(0.04 if busy() else 0.015), batch=None, n=1)
    assert fast < slow


def _signature_and_kernels(*wrapper: str, flags: str | None = None) -> list[str]:
    import os
    import subprocess
    import sys

    code = ("import os; from organizer.models.cpu import kernels_seen, machine_signature; import torch; "
            "print(kernels_seen()); print(machine_signature()); print(torch.backends.cpu.get_cpu_capability()); "
            "print(os.environ.get('ORGANIZER_CPU_FLAGS', ''))")
    env = {k: v for k, v in os.environ.items() if k != "ORGANIZER_CPU_FLAGS"}
    if flags is not None:
        env["ORGANIZER_CPU_FLAGS"] = flags
    out = subprocess.run([*wrapper, sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.split("\n")[:4]


def test_hidden_avx512_takes_the_avx2_paths_and_is_its_own_machine() -> None:
    """benchmarks/avx2_only/run shows a process an AVX2-only CPU (CPUID faulting): every library takes its AVX2
    kernels, and a path chosen by timing where AVX-512 was visible is not reused there (it once was: the flags
    alone named both machines alike)."""
    import shutil

    from organizer.models.cpu import kernels_seen

    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists() or "cpuid_fault" not in cpuinfo.read_text() or not shutil.which("gcc"):
        pytest.skip("needs Linux's CPUID faulting and gcc")
    if kernels_seen() != "avx512f":
        pytest.skip("this CPU has no AVX-512 to hide")
    run = Path(__file__).resolve().parent.parent / "benchmarks" / "avx2_only" / "run"
    kernels, signature, torch_kernels, flags = _signature_and_kernels(str(run))
    assert (kernels, torch_kernels) == ("avx2", "AVX2") and "avx512f" not in flags.split()
    # The same flags told by $ORGANIZER_CPU_FLAGS alone (the older emulation) leave AVX-512 in the kernels: a
    # different machine for the choices.
    told_kernels, told_signature, told_torch, _ = _signature_and_kernels(flags=flags)
    assert (told_kernels, told_torch) == ("avx512f", "AVX512")
    assert told_signature != signature


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_search_works_on_either_path(make_settings, photo_dir: Path, backend: str) -> None:
    from organizer.search.engine import SearchQuery

    lib = Library(make_settings(models={"backend": backend, "precision": "fp32"}))
    list(lib.index([str(photo_dir)], parts=False))
    assert lib.models.clip.path == f"{backend} fp32"
    assert len(lib.search(SearchQuery(text="a rocket", top_k=4, threshold=-10))) == 4


def test_the_text_tower_alone_gives_the_models_embeddings(tiny_models: Path) -> None:
    """A search from the command line embeds its query with the text tower an earlier run exported, through
    ONNX Runtime and the tokenizer's own file, without loading torch's model: the same embeddings."""
    full = ClipModel("clip", tiny_models / "clip", "cpu", "fp32", backend="auto")
    full.load()  # exports the text tower alone (once per model)
    texts = ["a cat", "the Eiffel Tower at night in the rain " * 20, "x", "Grandma's café, 1999!"]
    fresh = ClipModel("clip", tiny_models / "clip", "cpu", "fp32", backend="auto")
    fast = fresh.embed_texts(texts)
    assert not fresh.is_loaded  # answered without loading CLIP
    ref = ClipModel("clip", tiny_models / "clip", "cpu", "fp32", backend="torch").embed_texts(texts)
    assert _cos(fast, ref).min() >= 0.9999


def test_exported_weights_are_mapped_and_older_exports_rewritten(tiny_models: Path, monkeypatch,
                                                                 tmp_path: Path) -> None:
    """The ONNX exports keep their weights in a file beside the model, which ONNX Runtime maps instead of
    parsing (a cold search opens the text tower in a third of the time); an export an earlier version wrote
    whole is rewritten once, in place, and gives the same embeddings."""
    import onnx

    from organizer.models import ort

    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp_path / "cache"))
    texts = ["a cat", "the Eiffel Tower at night", "Grandma's café, 1999!"]
    clip = ClipModel("clip", tiny_models / "clip", "cpu", "fp32", backend="onnx")
    before = clip.embed_texts(texts)
    folder = ort.model_folder(clip.key)
    text = folder / "text.onnx"
    for name in ("image.onnx", "text.onnx"):
        assert (folder / f"{name}.data").stat().st_size > (folder / name).stat().st_size
    mapped_size = text.stat().st_size
    onnx.save_model(onnx.load(str(text)), str(text))  # as an earlier version wrote it: weights inside
    (folder / "text.onnx.data").unlink()
    assert text.stat().st_size > mapped_size
    monkeypatch.setattr(ort, "MAPPED_FROM", mapped_size + 1)  # the tiny model's whole file counts as big
    ort._text_only.clear()
    fresh = ClipModel("clip", tiny_models / "clip", "cpu", "fp32", backend="auto")
    after = fresh.embed_texts(texts)
    assert not fresh.is_loaded  # the text tower alone, from the rewritten export
    assert text.stat().st_size == mapped_size and (folder / "text.onnx.data").is_file()
    assert _cos(before, after).min() >= 0.9999


def test_a_full_disk_while_rewriting_an_export_leaves_it_whole_and_working(tiny_models: Path, monkeypatch,
                                                                            tmp_path: Path) -> None:
    import onnx

    from organizer.models import ort

    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp_path / "cache"))
    texts = ["a cat", "a red car in front of a hotel"]
    before = ClipModel("clip", tiny_models / "clip", "cpu", "fp32", backend="onnx").embed_texts(texts)
    folder = ort.model_folder(ClipModel("clip", tiny_models / "clip", "cpu", "fp32").key)
    text = folder / "text.onnx"
    monkeypatch.setattr(ort, "MAPPED_FROM", text.stat().st_size + 1)
    onnx.save_model(onnx.load(str(text)), str(text))  # written whole, as by an earlier version
    (folder / "text.onnx.data").unlink()
    real = onnx.save_model

    def disk_fills(model: object, path: str, **kw: object) -> None:
        real(model, path, **kw)  # the weights written, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(onnx, "save_model", disk_fills)
    ort._text_only.clear()
    after = ClipModel("clip", tiny_models / "clip", "cpu", "fp32", backend="auto").embed_texts(texts)
    assert _cos(before, after).min() >= 0.9999  # the whole export still answers
    assert not (folder / "text.onnx.data").exists() and not (folder / "text.onnx.tmp").exists()


def test_a_cold_search_imports_no_torch(make_settings, photo_dir: Path) -> None:
    import json
    import subprocess
    import sys

    lib = Library(make_settings())
    list(lib.index([str(photo_dir)], parts=False))
    lib.close()
    code = ("import json, sys; from organizer.cli import main; "
            f"main(['search', 'a cat', '--json', '--threshold', '-10', '--library', {str(lib.settings.library)!r}, "
            f"'--models', {str(lib.settings.models.dir)!r}]); "
            "print(json.dumps({'torch': 'torch' in sys.modules, 'transformers': 'transformers' in sys.modules}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"torch": False, "transformers": False}
    results = json.loads("\n".join(lines[:-1]))["results"]
    assert len(results) == 4


@pytest.fixture(scope="module")
def decisive_detector(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random detector whose heads are scaled up, so that its scores differ from box to box (the plain
    random one scores every box alike, and which of equal boxes are kept is arbitrary on any path)."""
    import torch

    from organizer.models.detector import _load_folder, save_folder
    from organizer.models.offline import make_tiny_detector

    folder = make_tiny_detector(tmp_path_factory.mktemp("decisive"))
    model, categories, name = _load_folder(folder)
    torch.manual_seed(1)
    heads = (model.roi_heads.box_head.fc6, model.roi_heads.box_head.fc7, model.roi_heads.box_predictor.cls_score,
             model.roi_heads.box_predictor.bbox_pred, model.rpn.head.cls_logits)
    with torch.no_grad():
        for layer in heads:
            layer.weight.normal_(0, 1.0)
    save_folder(model, name, categories, folder)
    return folder


def test_the_onnx_detector_finds_what_torch_finds(decisive_detector: Path) -> None:
    from organizer.models.detector import Detector

    on_torch = Detector(folder=decisive_detector, device="cpu", score_threshold=0.0, backend="torch")
    on_onnx = Detector(folder=decisive_detector, device="cpu", score_threshold=0.0, backend="onnx")
    assert on_torch.path == "torch" and on_onnx.path == "onnx"
    photo = sample_image("astronaut")
    for size in ((640, 480), (1333, 1000), (750, 1000)):  # any size (one at a time: torch pads a batch to one size)
        (a,), (b,) = on_torch.detect([photo.resize(size)]), on_onnx.detect([photo.resize(size)])
        assert len(a) == len(b) > 20
        assert len({round(d.score, 5) for d in a}) > 20  # scores that differ: which boxes are kept is decided
        boxes_b = np.array([d.box for d in b])
        for d in a:  # the same detections (scores within 1e-6 of each other may come in either order)
            near = np.flatnonzero(np.abs(boxes_b - np.array(d.box)).max(axis=1) < 1e-4)
            assert any(b[i].label == d.label and abs(b[i].score - d.score) < 1e-5 for i in near)


def test_the_detectors_path_is_measured_once(decisive_detector: Path, monkeypatch, tmp_path: Path) -> None:
    from organizer.models import ort
    from organizer.models.detector import Detector

    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp_path / "cache"))
    calls = []
    real = ort.time_per_item
    monkeypatch.setattr(ort, "time_per_item", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = Detector(folder=decisive_detector, device="cpu", score_threshold=0.5)
    assert first.path in ("torch", "onnx") and len(calls) == 1
    again = Detector(folder=decisive_detector, device="cpu", score_threshold=0.5)
    assert again.path == first.path and len(calls) == 1  # remembered for this model and machine
    other = Detector(folder=decisive_detector, device="cpu", score_threshold=0.3)
    assert other.path in ("torch", "onnx") and len(calls) == 2  # a threshold of its own: its own export
    assert len(list((tmp_path / "cache" / "onnx").glob("*/detector-*.onnx"))) == 2
