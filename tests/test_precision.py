"""int8 chosen by measurement on the library's own photos (`--precision auto` on the ONNX path): the limits on
hand-made vectors, and the whole check on a small real ONNX image tower (a two-layer network with a bias, so
that a damaged layer scale shows), quantised by ONNX Runtime's own quantiser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from organizer.library import Library
from organizer.models.cpu import cpu_flags
from organizer.models.onnx_folders import make_tiny_onnx_clip
from organizer.models.precision import agreement
from organizer.pipeline import precision_check as pc
from organizer.settings import Settings


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_the_limits_accept_close_vectors_and_refuse_what_a_user_would_notice() -> None:
    rng = np.random.default_rng(0)
    centres = unit(rng.standard_normal((20, 64)))
    photos = unit(np.repeat(centres, 5, axis=0) + 0.3 * rng.standard_normal((100, 64)))  # 20 scenes of 5
    prompts = unit(rng.standard_normal((40, 64)))
    kw = {"gate": (12, 12), "cosine_threshold": 0.1, "gate_margin": -0.01}
    same = agreement(photos, photos, prompts, prompts, **kw)
    assert same.failures() == [] and same.p1_cosine > 0.9999 and same.crossings == 0 and same.neighbours == 1
    close = agreement(photos, unit(photos + 0.002 * rng.standard_normal(photos.shape)), prompts, prompts, **kw)
    assert close.failures() == [], close
    far = agreement(photos, unit(photos + 0.2 * rng.standard_normal(photos.shape)), prompts, prompts, **kw)
    assert any("cosine" in f for f in far.failures()) and any("in or out" in f for f in far.failures())
    # one photo's vector moved to another scene: the 1st percentile of 100 hardly sees it (0.99), the worst
    # vector does (a search by that photo would show another scene)
    moved = photos.copy()
    moved[0] = photos[50]
    odd = agreement(photos, moved, prompts, prompts, **kw)
    assert odd.p1_cosine > 0.98 and any("worst cosine" in f for f in odd.failures()), odd


def test_a_sample_is_spread_over_every_folder() -> None:
    paths = [f"/p/{folder}/{i:04}.jpg" for folder in "abcd" for i in range(500)]
    sample = pc.spread(paths, 200)
    assert len(sample) == 200 and {p.split("/")[2] for p in sample} == set("abcd")
    assert pc.spread(paths[:10], 200) == sorted(paths[:10])


def two_layer_clip(folder: Path) -> Path:
    """The tiny CLIP with its image tower replaced by pixels -> pool -> MatMul + bias -> Relu -> MatMul."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    make_tiny_onnx_clip(folder)
    meta = json.loads((folder / "image.json").read_text())
    size, dim, grid, hidden = meta["image_size"], meta["dim"], 8, 256
    rng = np.random.default_rng(1)
    w1 = (rng.standard_normal((3 * grid * grid, hidden)) / np.sqrt(3 * grid * grid)).astype(np.float32)
    b1 = (0.5 * rng.standard_normal(hidden)).astype(np.float32)
    w2 = (rng.standard_normal((hidden, dim)) / np.sqrt(hidden)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("AveragePool", ["pixels"], ["pooled"], kernel_shape=[size // grid] * 2,
                          strides=[size // grid] * 2),
         helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "w1"], ["h0"]), helper.make_node("Add", ["h0", "b1"], ["h1"]),
         helper.make_node("Relu", ["h1"], ["h"]), helper.make_node("MatMul", ["h", "w2"], ["embeds"])],
        "image_tower", [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["n", 3, size, size])],
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["n", dim])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"), numpy_helper.from_array(w2, "w2")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(folder / "image.onnx"))
    return folder


def damage(model: Path, initializer: str, factor: float) -> None:
    """One quantised layer's weight scale off by ``factor``: a subtle break, every file still valid."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(model))
    for t in m.graph.initializer:
        if t.name == initializer:
            t.CopyFrom(numpy_helper.from_array((numpy_helper.to_array(t) * factor).astype(np.float32), t.name))
    onnx.save(m, str(model))


def photos(folder: Path, n: int = 60) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[0:96, 0:96] / 96
    for i in range(n):
        base, grad = rng.uniform(0, 1, (3, 1, 1)), rng.uniform(-0.5, 0.5, (3, 2))
        im = base + grad[:, :1, None] * yy + grad[:, 1:, None] * xx + rng.normal(0, 0.08, (3, 96, 96))
        Image.fromarray((np.clip(im, 0, 1).transpose(1, 2, 0) * 255).astype(np.uint8)).save(folder / f"p{i:02}.png")
    return folder


@pytest.fixture()
def onnx_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp_path / "cache"))
    models = tmp_path / "models"
    two_layer_clip(models / "clip")

    def open_library() -> Library:
        # landmarks off: the random test towers give hundreds of near-tied landmark prompts, so their labels
        # would decide the verdict; with them off only what the library uses is compared
        s = Settings.load({"library": str(tmp_path / "lib"), "models": {"dir": str(models), "backend": "onnx"},
                           "landmarks": {"enabled": False}}, user_file=tmp_path / "none.json")
        return Library(s)

    return open_library, models, photos(tmp_path / "photos")


def test_on_the_onnx_path_int8_is_checked_once_on_the_library_and_kept(onnx_library, monkeypatch) -> None:
    open_library, _, folder = onnx_library
    lib = open_library()
    notices = [e.message for e in lib.index([str(folder)], parts=False) if hasattr(e, "message")]
    verdict = lib.precision_verdict()
    assert verdict is not None and len(verdict["classes"]) == 1
    (cls, measured), = verdict["classes"].items()
    assert measured["agreement"]["vectors"] == 120  # 60 photos, whole and cropped
    assert verdict["int8"] == (measured["failures"] == [])  # decided by its own figures
    assert any(n.startswith("Precision: ") for n in notices)
    # the vectors are in the chosen space, and a new process opens the library in it
    assert lib.models.clip.key.endswith("+int8") == verdict["int8"]
    assert lib.status().whole_pass_done == 60 and lib.status().precision == verdict
    lib.close()
    again = open_library()
    assert again.models.clip.key.endswith("+int8") == verdict["int8"]
    monkeypatch.setattr(pc, "check", lambda *a, **k: pytest.fail("checked again on the same CPU class"))
    list(again.index([str(folder)], parts=False))  # no second check, no flip
    assert again.precision_verdict() == verdict
    again.close()


def test_a_damaged_int8_model_is_refused_and_the_library_stays_fp32(onnx_library) -> None:
    open_library, models, folder = onnx_library
    from organizer.models import ort

    ort.quantise(models / "clip")
    damage(models / "clip" / "image-int8.onnx", "w1_scale", 1.2)
    lib = open_library()
    list(lib.index([str(folder)], parts=False))
    verdict = lib.precision_verdict()
    assert verdict is not None and verdict["int8"] is False
    failures = next(iter(verdict["classes"].values()))["failures"]
    assert failures and any("in or out" in f or "labels" in f for f in failures), failures
    assert not lib.models.clip.key.endswith("+int8") and lib.status().whole_pass_done == 60
    lib.close()
    assert not open_library().models.clip.key.endswith("+int8")  # for good


def test_int8_is_checked_again_on_another_kind_of_cpu(onnx_library, monkeypatch) -> None:
    open_library, _, folder = onnx_library
    lib = open_library()
    list(lib.index([str(folder)], parts=False))
    first = lib.precision_verdict()
    lib.close()
    if not first or not first["int8"]:
        pytest.skip("int8 was refused on this CPU: nothing to check again")
    monkeypatch.setenv("ORGANIZER_CPU_FLAGS", "avx2 fma")  # an AVX2 laptop: int8 kernels without VNNI
    cpu_flags.cache_clear()
    try:
        lib = open_library()
        list(lib.index([str(folder)], parts=False))
        assert set(lib.precision_verdict()["classes"]) == set(first["classes"]) | {"avx2"}
        lib.close()
    finally:
        monkeypatch.delenv("ORGANIZER_CPU_FLAGS")
        cpu_flags.cache_clear()


def test_with_torch_and_the_default_backend_auto_keeps_its_own_choice(tmp_path: Path, monkeypatch) -> None:
    from organizer.models import ort

    monkeypatch.setattr(ort, "torch_version", lambda: "2.14.1")
    s = Settings.load({"library": str(tmp_path / "lib")}, user_file=tmp_path / "none.json")
    assert not pc.applies(s)  # bf16 where native, else fp32, as measured: no int8 check
    monkeypatch.setattr(ort, "torch_version", lambda: "none")
    assert pc.applies(s)
    shutil.rmtree(tmp_path / "lib", ignore_errors=True)
