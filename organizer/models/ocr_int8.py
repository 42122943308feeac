"""RapidOCR's text detector in int8: static quantisation (QDQ, weights per channel) calibrated at first use on
the library's own photos, the first ``CALIBRATION`` that OCR reads. Measured with the real weights
(``benchmarks/ocr_int8.py``): it reads as many words as fp32 on printed signs and on small, slanted and
low-contrast text, and detects 1.3x (AVX-512 VNNI) to 3.4x (AVX2) as fast. The text recogniser stays fp32.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

CALIBRATION = 16  # photos
DET_MODEL = "PP-OCRv6_det_small.onnx"  # the detector RapidOCR's default English configuration loads

log = logging.getLogger("organizer")


def source() -> Path | None:
    """RapidOCR's own fp32 text detector, where the package holds it."""
    try:
        import rapidocr
    except ImportError:
        return None
    path = Path(os.path.dirname(rapidocr.__file__)) / "models" / DET_MODEL
    return path if path.is_file() else None


def target(src: Path) -> Path:
    """Where the int8 copy of ``src`` is kept: the user's cache, named by the source's digest."""
    from organizer.models.download import file_sha256
    from organizer.settings import user_cache

    return user_cache() / "ocr" / f"{src.stem}-{file_sha256(src)[:12]}-int8.onnx"


def det_input(rgb: np.ndarray, canvas: int) -> np.ndarray:
    """An RGB array as RapidOCR's detector takes it: longest side at most ``canvas``, sides a multiple of 32,
    (x / 255 - 0.5) / 0.5, NCHW."""
    from PIL import Image

    im = Image.fromarray(rgb)
    im.thumbnail((canvas, canvas))
    w, h = (max(32, round(s / 32) * 32) for s in im.size)
    x = (np.asarray(im.resize((w, h)), np.float32) / 255.0 - 0.5) / 0.5
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def quantise(src: Path, out: Path, inputs: Iterable[np.ndarray]) -> Path:
    """``src`` quantised to ``out`` (static, QDQ, per channel), calibrated on ``inputs`` (det_input arrays).
    Written whole or not at all."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    out.parent.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(src))
    name = model.graph.input[0].name
    up, pre, whole = (out.with_name(out.name + s) for s in (".opset17", ".pre", ".whole"))
    left = iter(list(inputs))

    class Photos(CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(left, None)
            return None if x is None else {name: x}

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser's advice is for other cases
    try:
        onnx.save(version_converter.convert_version(model, 17), str(up))  # per-channel QDQ needs opset 13+
        quant_pre_process(str(up), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(whole), Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        os.replace(whole, out)
    finally:
        root.setLevel(level)
        for p in (up, pre, whole):
            p.unlink(missing_ok=True)
    return out
