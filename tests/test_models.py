from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from organizer.models.base import bf16_native
from organizer.models.clip import ClipModel, prepare
from organizer.models.ocr import Word, group_words
from organizer.parts import PartType, super_category
from tests.conftest import noise_image, sample_image


def test_bf16_embeddings_stay_within_cosine_0999_of_fp32(tiny_models: Path) -> None:
    if not bf16_native("cpu"):
        pytest.skip("this CPU has no native bf16; the app uses fp32 here")
    folder = tiny_models / "clip"
    ref = ClipModel("t", folder, precision="fp32")
    fast = ClipModel("t", folder, precision="bf16")
    ims = [sample_image(n) for n in ("astronaut", "coffee", "chelsea")]
    cos = (ref.embed_images(ims) * fast.embed_images(ims)).sum(1)
    assert cos.min() >= 0.999
    texts = ["a cat on a sofa", "red car in front of a hotel"]
    assert (ref.embed_texts(texts) * fast.embed_texts(texts)).sum(1).min() >= 0.999


def test_embeddings_are_unit_length_and_batch_independent(tiny_models: Path) -> None:
    clip = ClipModel("t", tiny_models / "clip", precision="fp32")
    ims = [noise_image(i) for i in range(5)]
    all_at_once = clip.embed_images(ims)
    one = clip.embed_images(ims[2:3])
    assert np.allclose(np.linalg.norm(all_at_once, axis=1), 1.0, atol=1e-5)
    assert float(all_at_once[2] @ one[0]) > 0.9999


def test_prepare_pads_crops_instead_of_squashing() -> None:
    from PIL import Image

    tall = Image.new("RGB", (20, 80), (255, 0, 0))
    px = prepare(tall, 32, "pad")
    assert px.shape == (32, 32, 3)
    assert tuple(px[16, 1]) != (255, 0, 0) and tuple(px[16, 16]) == (255, 0, 0)  # grey sides, red middle
    crop = prepare(tall, 32, "crop")
    assert (crop == [255, 0, 0]).all()


def test_model_key_changes_with_the_weights(tmp_path: Path) -> None:
    from organizer.models.offline import make_tiny_clip

    a = ClipModel("x", make_tiny_clip(tmp_path / "a", seed=0))
    b = ClipModel("x", make_tiny_clip(tmp_path / "b", seed=1))
    a2 = ClipModel("x", tmp_path / "a")
    assert a.key == a2.key and a.key.split("@")[1] != b.key.split("@")[1]


def test_super_categories_fold_coco_names() -> None:
    assert super_category("car") is PartType.VEHICLE
    assert super_category("hot dog") is PartType.FOOD
    assert super_category("teddy bear") is PartType.INDOOR
    assert super_category("__background__") is None and super_category("N/A") is None
    assert super_category("motorbike") is PartType.VEHICLE


def test_detector_categories_come_from_the_weights_metadata(tiny_models: Path, tmp_path: Path) -> None:
    """The detector names its classes from its folder's config.json, and refuses a folder that names none."""
    import json
    import shutil

    from organizer.errors import ModelUnavailableError
    from organizer.models.detector import Detector

    folder = tmp_path / "detector"
    shutil.copytree(tiny_models / "detector", folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["categories"][1] = "wanderer"  # the folder's own name for class 1, not torchvision's
    (folder / "config.json").write_text(json.dumps(cfg))
    det = Detector(folder=folder, device="cpu", backend="torch")
    assert det.loaded.categories[1] == "wanderer" and len(det.loaded.categories) == 91
    cfg["categories"] = []
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelUnavailableError, match="categories"):
        Detector(folder=folder, device="cpu", backend="torch").load()


def w(x0: float, y0: float, x1: float, y1: float, text: str, conf: float = 0.9) -> Word:
    return Word((x0, y0, x1, y1), text, conf)


def test_ocr_words_group_into_lines_and_blocks() -> None:
    words = [
        w(10, 10, 60, 30, "GRAND"), w(70, 10, 130, 30, "HOTEL"),       # one line
        w(10, 36, 50, 56, "since"), w(56, 36, 100, 56, "1902"),          # the line under it: same block
        w(400, 300, 460, 320, "EXIT"),                                   # far away: its own block
    ]
    groups = group_words(words)
    assert [g.text for g in groups] == ["GRAND HOTEL\nsince 1902", "EXIT"]
    assert groups[0].box == (10, 10, 130, 56)


def test_ocr_lines_far_apart_stay_separate() -> None:
    groups = group_words([w(10, 10, 60, 30, "TOP"), w(10, 200, 60, 220, "BOTTOM")])
    assert len(groups) == 2
