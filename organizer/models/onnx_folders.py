"""Model folders in ONNX form, which the app runs without torch, torchvision or transformers.

A CLIP folder (``organizer.json`` says ``{"format": "organizer-onnx-clip-1"}``) holds:

- ``image.onnx``: pixels (n, 3, s, s) float32, normalised with ``image.json``'s mean and std -> embeds (n, d);
- ``text.onnx``: ids and mask (n, L) int64 -> embeds (n, d);
- ``tokenizer.json``: the tokenizer, in the ``tokenizers`` library's own format;
- ``text.json``: ``max_text``, ``pad_id``, ``pad_token``; ``image.json``: ``image_size``, ``mean``, ``std``,
  ``dim``, ``logit_scale``, ``max_text``.

A detector folder (``config.json`` with ``"format": "organizer-onnx-detector-1"``, ``architecture`` and
``categories``) holds ``detector.onnx``: one image (3, h, w) float32 in 0..1 -> boxes (k, 4) in its pixels,
labels (k,), scores (k,), as a torchvision detector gives them.

The same files an export of a transformers or torchvision model writes into the user cache; here they are also
made from numpy weights with onnx's helper API: tiny random models for tests and for the frozen app's self-test,
built without torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from organizer.fsutil import write_atomic
from organizer.parts import COCO_TO_SUPER

CLIP_FORMAT = "organizer-onnx-clip-1"
DETECTOR_FORMAT = "organizer-onnx-detector-1"
MEAN = (0.48145466, 0.4578275, 0.40821073)  # CLIP's
STD = (0.26862954, 0.26130258, 0.27577711)


def is_onnx_clip(folder: Path | None) -> bool:
    return folder is not None and _format(folder / "organizer.json") == CLIP_FORMAT


def is_onnx_detector(folder: Path | None) -> bool:
    return folder is not None and _format(folder / "config.json") == DETECTOR_FORMAT


def _format(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data.get("format") if isinstance(data, dict) else None


def make_tiny_onnx_clip(folder: Path, seed: int = 0, size: int = 32, dim: int = 32, max_text: int = 77) -> Path:
    """A tiny random CLIP as an ONNX folder: an image tower (8x8 average pool, one projection) and a text tower
    (a word embedding, masked mean, one projection), with a word-level tokenizer of lower-case words."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    grid = 8
    w_image = (rng.standard_normal((3 * grid * grid, dim)) / np.sqrt(3 * grid * grid)).astype(np.float32)
    image = helper.make_graph(
        [helper.make_node("AveragePool", ["pixels"], ["pooled"], kernel_shape=[size // grid] * 2,
                          strides=[size // grid] * 2),
         helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "w"], ["embeds"])],
        "image_tower",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["n", 3, size, size])],
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["n", dim])],
        [numpy_helper.from_array(w_image, "w")])
    _save(onnx, helper.make_model(image, opset_imports=[helper.make_opsetid("", 17)]), folder / "image.onnx")

    words = ["<pad>", "<unk>", *sorted({w for name in COCO_TO_SUPER for w in name.split()}),
             *[chr(c) for c in range(ord("a"), ord("z") + 1)], *[str(d) for d in range(10)],
             "a", "photo", "of", "the", "sign", "street", "document", "text", "cafe", "beach", "city", "landmark"]
    vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
    emb = rng.standard_normal((len(vocab), dim)).astype(np.float32)
    proj = (rng.standard_normal((dim, dim)) / np.sqrt(dim)).astype(np.float32)
    text = helper.make_graph(
        [helper.make_node("Gather", ["emb", "ids"], ["tok"]),
         helper.make_node("Cast", ["mask"], ["maskf"], to=TensorProto.FLOAT),
         helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
         helper.make_node("Mul", ["tok", "mask3"], ["kept"]),
         helper.make_node("ReduceSum", ["kept", "axis1"], ["summed"], keepdims=0),
         helper.make_node("ReduceSum", ["maskf", "axis1"], ["count"], keepdims=1),
         helper.make_node("Max", ["count", "one"], ["count1"]),
         helper.make_node("Div", ["summed", "count1"], ["mean"]),
         helper.make_node("MatMul", ["mean", "proj"], ["embeds"])],
        "text_tower",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n", "l"]),
         helper.make_tensor_value_info("mask", TensorProto.INT64, ["n", "l"])],
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["n", dim])],
        [numpy_helper.from_array(emb, "emb"), numpy_helper.from_array(proj, "proj"),
         numpy_helper.from_array(np.array([2], np.int64), "axis2"),
         numpy_helper.from_array(np.array([1], np.int64), "axis1"),
         numpy_helper.from_array(np.array(1.0, np.float32), "one")])
    _save(onnx, helper.make_model(text, opset_imports=[helper.make_opsetid("", 17)]), folder / "text.onnx")

    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(True)])
    tok.save(str(folder / "tokenizer.json"))
    _write(folder / "text.json", {"max_text": max_text, "pad_id": 0, "pad_token": "<pad>"})
    _write(folder / "image.json", {"image_size": size, "mean": list(MEAN), "std": list(STD), "dim": dim,
                                   "logit_scale": 100.0, "max_text": max_text})
    _write(folder / "organizer.json", {"format": CLIP_FORMAT, "tiny": True, "seed": seed})
    return folder


def make_tiny_onnx_detector(folder: Path) -> Path:
    """A detector as an ONNX folder that finds nothing (as random weights do), with COCO's 91 class names: it
    runs the real loading and detection code without torch."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    graph = helper.make_graph(
        [helper.make_node("ReduceMax", ["image"], ["peak"], keepdims=0),
         helper.make_node("Mul", ["peak", "zero"], ["nothing"]),
         helper.make_node("Add", ["no_scores", "nothing"], ["scores"]),
         helper.make_node("Identity", ["no_boxes"], ["boxes"]),
         helper.make_node("Identity", ["no_labels"], ["labels"])],
        "detector",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [3, "h", "w"])],
        [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["k", 4]),
         helper.make_tensor_value_info("labels", TensorProto.INT64, ["k"]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["k"])],
        [numpy_helper.from_array(np.zeros((0, 4), np.float32), "no_boxes"),
         numpy_helper.from_array(np.zeros(0, np.int64), "no_labels"),
         numpy_helper.from_array(np.zeros(0, np.float32), "no_scores"),
         numpy_helper.from_array(np.array(0.0, np.float32), "zero")])
    _save(onnx, helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), folder / "detector.onnx")
    _write(folder / "config.json", {"format": DETECTOR_FORMAT, "architecture": "tiny-onnx-detector",
                                    "categories": COCO_CATEGORIES})
    return folder


def _save(onnx: Any, model: Any, path: Path) -> None:
    onnx.checker.check_model(model, full_check=True)  # types and shapes inferred: ONNX Runtime will load it
    onnx.save(model, str(path))


def _write(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=1))


# torchvision's COCO category list (index = the detector's label), as its detection weights name them
COCO_CATEGORIES = [
    "__background__", "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "N/A", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse",
    "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "N/A", "backpack", "umbrella", "N/A", "N/A", "handbag",
    "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove",
    "skateboard", "surfboard", "tennis racket", "bottle", "N/A", "wine glass", "cup", "fork", "knife", "spoon",
    "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake",
    "chair", "couch", "potted plant", "bed", "N/A", "dining table", "N/A", "N/A", "toilet", "N/A", "tv", "laptop",
    "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "N/A",
    "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
]


def export_clip(clip: Any, target: Path) -> Path:
    """``clip`` (a :class:`~organizer.models.clip.ClipModel` on transformers' weights: a hub id or a local
    folder) as an ONNX folder at ``target``, in the same embedding space: the folder records the model's key,
    so a library indexed with the torch model goes on with the ONNX one and nothing is embedded again. Needs
    torch and transformers (the train extra)."""
    from organizer.models import ort

    m = clip.torch_loaded()
    target.mkdir(parents=True, exist_ok=True)
    model = m.model.float().eval().to("cpu")
    ort.export(model, m.image_size, target)
    ort.export_text(model, m.tokenizer, m.max_text, target)
    config: Any = model.config
    ort.write_image_meta(target, {
        "image_size": m.image_size, "mean": m.mean.flatten().tolist(), "std": m.std.flatten().tolist(),
        "dim": int(config.projection_dim), "max_text": m.max_text, "logit_scale": float(model.logit_scale.exp().item())})
    _write(target / "organizer.json", {"format": CLIP_FORMAT, "space": clip.key, "source": clip.spec})
    return target


EXPORT_THRESHOLD = 0.05  # the export keeps its score threshold: this low, any setting above it filters later


def export_detector(detector: Any, target: Path) -> Path:
    """``detector`` (a :class:`~organizer.models.detector.Detector` on torchvision's weights) as an ONNX folder
    at ``target``, keeping its key (a library's parts stay done). Needs torch and torchvision."""
    from organizer.models import ort
    from organizer.models.detector import _set_threshold

    m = detector.torch_loaded()
    model = m.model.eval().to("cpu")
    _set_threshold(model, EXPORT_THRESHOLD)
    target.mkdir(parents=True, exist_ok=True)
    ort.export_detector(model, target / "detector.onnx")
    _write(target / "config.json", {"format": DETECTOR_FORMAT, "architecture": m.name, "categories": m.categories,
                                    "key": detector.key, "score_threshold": EXPORT_THRESHOLD})
    return target
