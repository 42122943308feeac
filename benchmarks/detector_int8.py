"""The detector (Faster R-CNN MobileNetV3-320, torchvision's CPU default, random weights: its cost is real,
its detections are not) in int8 through ONNX Runtime's quantiser, against fp32, on 12 MP photos decoded to the
detection canvas (1333 px), one photo at a time, the paths taking turns:

- static QDQ, per channel, convolutions only (calibrated on 8 photos);
- static QDQ, per channel, convolutions and the box head's fully connected layers (Gemm);
- dynamic, the fully connected layers only (no calibration).

Also where the fp32 graph spends its time (ONNX Runtime's profiler, by operator). Needs an ONNX export of the
detector: `./dev bench full_pipeline` (or any index with `--backend onnx`) makes it in the user cache.

    .venv/bin/python benchmarks/detector_int8.py
    benchmarks/avx2_only/run .venv/bin/python benchmarks/detector_int8.py
"""

from __future__ import annotations

import collections
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from common import photos_12mp
from PIL import Image

from organizer.models.cpu import cpu_name, kernels_seen, vector_features
from organizer.settings import user_cache


def canvas(path: Path, side: int = 1333) -> np.ndarray:
    im = Image.open(path)
    im.draft("RGB", (side, side))
    im = im.convert("RGB")
    im.thumbnail((side, side))
    return np.ascontiguousarray(np.asarray(im, np.float32).transpose(2, 0, 1) / 255.0)


def session(path: Path, profile: str | None = None):  # noqa: ANN201 - onnxruntime's session
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    if profile:
        so.enable_profiling = True
        so.profile_file_prefix = profile
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def main() -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    exports = sorted((user_cache() / "onnx").glob("fasterrcnn_mobilenet_v3_large_320_fpn@*/detector-*.onnx"))
    if not exports:
        raise SystemExit("no ONNX export of the detector in the user cache: run ./dev bench full_pipeline first")
    src = exports[0]
    xs = [canvas(p) for p in sorted(photos_12mp(12).glob("*.jpg"))]
    print(f"{cpu_name()}, features: {vector_features()}; kernels: {kernels_seen()}; input {xs[0].shape}, {src}")
    tmp = Path(tempfile.mkdtemp(prefix="det-int8-"))

    class Photos(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(xs[:8])

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.it, None)
            return None if x is None else {"image": x}

    variants: dict[str, Path] = {}
    for name, ops in (("static, Conv", ["Conv"]), ("static, Conv + Gemm", ["Conv", "Gemm"])):
        out = tmp / f"{len(ops)}.onnx"
        quantize_static(str(src), str(out), Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8, op_types_to_quantize=ops)
        variants[name] = out
    out = tmp / "dynamic.onnx"
    quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8, op_types_to_quantize=["Gemm", "MatMul"])
    variants["dynamic, Gemm"] = out

    fp32 = session(src)
    for name, path in variants.items():
        q = session(path)
        for s in (fp32, q):
            s.run(None, {"image": xs[0]})
        ta, tb = [], []
        for x in xs[8:] * 3:
            t = time.perf_counter()
            fp32.run(None, {"image": x})
            ta.append(time.perf_counter() - t)
            t = time.perf_counter()
            q.run(None, {"image": x})
            tb.append(time.perf_counter() - t)
        a, b = np.median(ta) * 1000, np.median(tb) * 1000
        print(f"int8 {name:20}: fp32 {a:5.1f} ms, int8 {b:5.1f} ms a photo: {a / b:.2f}x")

    prof = session(src, profile=str(tmp / "profile"))
    for _ in range(6):
        prof.run(None, {"image": xs[0]})
    events = json.loads(Path(prof.end_profiling()).read_text())
    by: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            by[e["args"]["op_name"]] += e["dur"]
    total = sum(by.values())
    print("fp32 time by operator: " + ", ".join(f"{k} {v / total:.0%}" for k, v in by.most_common(6)))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
