"""CLIP through transformers: images through the image tower, text through the text tower."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from organizer.errors import ModelUnavailableError
from organizer.models.base import LazyModel, best_device, bf16_native

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(slots=True)
class _Loaded:
    model: Any
    tokenizer: Any
    device: str
    dtype: Any  # autocast dtype or None
    image_size: int
    mean: Any  # torch tensors (1,3,1,1)
    std: Any
    max_text: int


def prepare(image: Image.Image, size: int, mode: str = "crop") -> np.ndarray:
    """An RGB image as CLIP's input pixels (size x size x 3, uint8), without torch.

    ``crop``: shorter side to ``size`` then centre crop (how CLIP was trained; whole photos).
    ``pad``: pad to a square with a neutral grey, then scale (crops of parts: nothing cut, nothing squashed).
    """
    w, h = image.size
    if mode == "pad":
        side = max(w, h)
        if side != min(w, h):
            canvas = Image.new("RGB", (side, side), (123, 117, 104))
            canvas.paste(image, ((side - w) // 2, (side - h) // 2))
            image = canvas
        image = image.resize((size, size), Image.Resampling.BICUBIC, reducing_gap=3.0)
    else:
        scale = size / min(w, h)
        nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
        image = image.resize((nw, nh), Image.Resampling.BICUBIC, reducing_gap=3.0)
        left, top = (nw - size) // 2, (nh - size) // 2
        image = image.crop((left, top, left + size, top + size))
    return np.asarray(image, dtype=np.uint8)


class ClipModel(LazyModel):
    role = "clip"

    def __init__(self, spec: str, folder: Path | None = None, device: str = "auto", precision: str = "auto") -> None:
        super().__init__()
        self.spec = spec
        self.folder = folder
        self.want_device = device
        self.precision = precision
        self.key = _model_key(spec, folder)

    @property
    def image_size(self) -> int:
        return int(self.loaded.image_size)

    @property
    def device(self) -> str:
        return str(self.loaded.device)

    @property
    def dtype_name(self) -> str:
        return "bf16" if self.loaded.dtype is not None else "fp32"

    def _load(self) -> _Loaded:
        import torch
        from transformers import AutoTokenizer, CLIPModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        source = str(self.folder) if self.folder else self.spec
        looked = f"the folder {self.folder}" if self.folder else (
            f"the Hugging Face cache and hub for '{self.spec}'")
        try:
            model = CLIPModel.from_pretrained(source)
            tokenizer = AutoTokenizer.from_pretrained(source)
        except (OSError, ValueError) as e:
            cause = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelUnavailableError("clip", self.spec, looked, cause[:300]) from e
        device = best_device(self.want_device)
        use_bf16 = self.precision == "bf16" or (self.precision == "auto" and bf16_native(device))
        model.eval().to(device)
        mean, std = OPENAI_MEAN, OPENAI_STD
        proc = Path(source) / "preprocessor_config.json"
        if proc.is_file():
            cfg = json.loads(proc.read_text())
            mean, std = tuple(cfg.get("image_mean", mean)), tuple(cfg.get("image_std", std))
        t = torch.tensor
        config: Any = model.config
        return _Loaded(
            model=model, tokenizer=tokenizer, device=device,
            dtype=torch.bfloat16 if use_bf16 else None,
            image_size=int(config.vision_config.image_size),
            mean=t(mean, dtype=torch.float32, device=device).view(1, 3, 1, 1),
            std=t(std, dtype=torch.float32, device=device).view(1, 3, 1, 1),
            max_text=int(config.text_config.max_position_embeddings),
        )

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """(n, s, s, 3) uint8 from :func:`prepare` -> (n, dim) float32, L2-normalised."""
        import torch

        m = self.loaded
        if len(pixels) == 0:
            return np.zeros((0, self.dim), np.float32)
        with torch.inference_mode():
            x = torch.from_numpy(np.array(pixels, dtype=np.uint8, copy=not pixels.flags.writeable, order="C"))
            x = x.to(m.device)
            x = x.permute(0, 3, 1, 2).float().div_(255.0).sub_(m.mean).div_(m.std)
            with self._autocast():
                out = m.model.get_image_features(pixel_values=x)
            return _normalise(_features(out))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        m = self.loaded
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        tok = m.tokenizer(texts, padding=True, truncation=True, max_length=m.max_text, return_tensors="pt")
        with torch.inference_mode(), self._autocast():
            out = m.model.get_text_features(input_ids=tok["input_ids"].to(m.device),
                                            attention_mask=tok["attention_mask"].to(m.device))
        return _normalise(_features(out))

    def embed_images(self, images: list[Image.Image], mode: str = "crop") -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return self.embed_pixels(np.stack([prepare(im, self.image_size, mode) for im in images]))

    def logit_scale(self) -> float:
        """CLIP's learnt temperature (about 100 for trained models)."""
        return float(self.loaded.model.logit_scale.exp().item())

    @property
    def dim(self) -> int:
        return int(self.loaded.model.config.projection_dim)

    def _autocast(self) -> Any:
        import contextlib

        import torch

        m = self.loaded
        if m.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda" if m.device == "cuda" else "cpu", dtype=m.dtype)


def _features(out: Any) -> Any:
    # transformers 5 returns an output object whose pooler_output holds the projected features.
    if hasattr(out, "pooler_output") and not hasattr(out, "shape"):
        return out.pooler_output
    return out


def _normalise(t: Any) -> np.ndarray:
    v = t.float().cpu().numpy()
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return (v / np.maximum(n, 1e-12)).astype(np.float32)


def _model_key(spec: str, folder: Path | None) -> str:
    """Names the embedding space: a hub id as is, a local folder by its name and a digest of its files."""
    if folder is None:
        return spec
    h = hashlib.blake2b(digest_size=6)
    for f in sorted(folder.iterdir()):
        if f.is_file():
            h.update(f.name.encode())
            h.update(str(f.stat().st_size).encode())
            if f.suffix == ".json":
                h.update(f.read_bytes())
            else:  # weights: their last bytes differ between any two trainings
                with f.open("rb") as fh:
                    fh.seek(max(0, f.stat().st_size - 65536))
                    h.update(fh.read())
    return f"{folder.name}@{h.hexdigest()}"
