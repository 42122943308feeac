"""RapidOCR's text detector in int8, calibrated at first use on the photos OCR reads (real weights)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from organizer.models import ocr_int8
from organizer.models.ocr import RapidOcrEngine, rapidocr_available
from tests.conftest import text_image

pytestmark = pytest.mark.skipif(not rapidocr_available() or ocr_int8.source() is None,
                                reason="RapidOCR with its PP-OCRv6 detector is not installed")

SIGNS = ["COFFEE SHOP", "CITY MUSEUM", "RIVER BRIDGE", "OLD MARKET"]


def words(regions) -> set[str]:
    return set(re.findall(r"\w+", " ".join(r.text for r in regions).upper()))


def test_the_detector_is_calibrated_on_the_first_photos_read_then_runs_in_int8(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(ocr_int8, "CALIBRATION", 3)  # 16 in the app: fewer keeps the test short
    engine = RapidOcrEngine()
    plain = RapidOcrEngine()
    plain.int8 = "off"
    images = [text_image(s, (1000, 300)) for s in SIGNS]
    for im in images[:2]:
        assert words(engine.read(im)) == words(plain.read(im))
        assert engine.detector == "fp32"  # still calibrating
    target = ocr_int8.target(ocr_int8.source())
    assert not target.exists()
    engine.read(images[2])  # the third photo completes the calibration
    assert engine.detector == "int8" and target.is_file() and target.stat().st_size > 100_000
    for im, sign in zip(images, SIGNS, strict=True):
        assert words(engine.read(im)) == set(sign.split()) == words(plain.read(im))  # the same words
    again = RapidOcrEngine()  # a new process: int8 from the start, no calibration
    again.load()
    assert again.detector == "int8" and again._calibration is None
    assert plain.detector == "fp32"


def test_a_failed_calibration_keeps_fp32_working(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(ocr_int8, "CALIBRATION", 1)

    def broken(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ocr_int8, "quantise", broken)
    engine = RapidOcrEngine()
    im = text_image("CITY MUSEUM", (1000, 300))
    assert words(engine.read(im)) == {"CITY", "MUSEUM"}
    assert engine.detector == "fp32" and words(engine.read(im)) == {"CITY", "MUSEUM"}
    assert not np.any([p.name.endswith(".onnx") for p in (tmp_path / "cache").rglob("*")])
