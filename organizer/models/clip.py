"""CLIP through transformers: images through the image tower, text through the text tower."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from organizer.errors import ModelUnavailableError
from organizer.models.base import LazyModel, best_device, bf16_native, folder_digest

T = TypeVar("T")

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
    towers: Any = None  # ort.Towers when ONNX Runtime runs the towers, else None (torch)
    path: str = "torch fp32"  # the path chosen, named for status and benchmarks
    dim: int = 0  # the embedding's size (read from the torch model's config where there is one)
    logit: float = 0.0  # CLIP's learnt temperature, exp(logit_scale), where there is no torch model
    text: Any = None  # ort.TextOnly where there is no torch model (no transformers tokenizer either)


def read_prepared(items: Sequence[T], path_of: Callable[[T], str], size: int, workers: int = 2,
                  ahead: int = 64) -> Iterator[tuple[T, tuple[str, np.ndarray] | str]]:
    """The one read-prepare recipe of the training commands: each item's file read, hashed and decoded (at least
    ``size`` pixels, the read-ahead threads a bounded distance ahead) and prepared as CLIP's input; per item, in
    order, (hash, pixels) or why it could not be read."""
    from organizer.media.decode import SkipError, load
    from organizer.media.lookahead import bounded_map

    def work(item: T) -> tuple[str, np.ndarray] | str:
        try:
            r = load(path_of(item), min_side=size)
            return r.hash, prepare(r.image, size)
        except SkipError as e:
            return str(e)

    return bounded_map(work, items, workers, ahead=ahead)


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

    def __init__(self, spec: str, folder: Path | None = None, device: str = "auto", precision: str = "auto",
                 backend: str = "auto") -> None:
        super().__init__()
        self.spec = spec
        self.folder = folder
        self.want_device = device
        self.precision = precision
        self.backend = backend
        # int8 embeddings are close to fp32 ones but not the same: they get their own space (never mixed)
        self.key = _model_key(spec, folder) + ("+int8" if precision == "int8" else "")
        self._torch: _Loaded | None = None  # the torch model where the towers run on ONNX alone (training)

    @property
    def image_size(self) -> int:
        return int(self.loaded.image_size)

    @property
    def device(self) -> str:
        return str(self.loaded.device)

    @property
    def dtype_name(self) -> str:
        return "bf16" if self.loaded.dtype is not None else "fp32"

    @property
    def path(self) -> str:
        """The path the towers run on: "torch fp32", "torch bf16", "onnx fp32" or "onnx int8"."""
        return str(self.loaded.path)

    def _load(self) -> _Loaded:
        light = self._load_onnx()
        if light is not None:
            return light
        from organizer.models import ort, packs

        if ort.torch_version() == "none":
            pack = packs.installed("clip", self.spec) if self.folder is None else None
            if pack is not None:  # the published ONNX form, downloaded: the same embedding space
                return self._from_folder(pack, self.precision == "int8")
            raise ModelUnavailableError(
                "clip", self.spec, str(ort.model_folder(self.key.removesuffix("+int8"))),
                "torch is not installed, and this model has no ONNX form here yet: `organizer index` downloads "
                "the published one; or install the train extra (pip install 'organizer[train]')")
        return self._load_torch()

    def has_light_path(self) -> bool:
        """Whether CLIP can load here without torch: an ONNX folder, a downloaded pack, an earlier export."""
        from organizer.models import ort, packs
        from organizer.models.onnx_folders import is_onnx_clip

        if is_onnx_clip(self.folder) or (self.folder is None and packs.installed("clip", self.spec) is not None):
            return True
        folder = ort.model_folder(self.key.removesuffix("+int8"))
        return ort.image_meta(folder) is not None and (folder / "image.onnx").is_file()

    def _load_onnx(self) -> _Loaded | None:
        """The towers from an earlier export, run by ONNX Runtime without torch or transformers, where ONNX is
        the path this machine takes for this model (asked for, int8, or measured faster and remembered): the
        same embeddings as the torch model's (an export is checked against it: cosine >= 0.9999, tested).
        None where that is not known yet: the torch model loads, measures, exports."""
        from organizer.models import ort
        from organizer.models.onnx_folders import is_onnx_clip

        int8 = self.precision == "int8"
        if is_onnx_clip(self.folder):  # a model folder in ONNX form: nothing else to choose from
            assert self.folder is not None
            return self._from_folder(self.folder, int8)
        if self.backend == "torch" or self.precision == "bf16" or self.want_device not in ("auto", "cpu"):
            return None
        folder = ort.model_folder(self.key.removesuffix("+int8"))
        meta = ort.image_meta(folder)
        image = folder / ("image-int8.onnx" if int8 else "image.onnx")
        if meta is None or not image.is_file() or best_device(self.want_device) != "cpu":
            return None
        if not (int8 or self.backend == "onnx" or ort.torch_version() == "none"):
            if self.precision == "auto" and bf16_native("cpu"):
                return None  # torch's native bf16 is the fast path here
            if ort.remembered(ort.choice_key(f"clip|{self.key}")) != "onnx fp32":
                return None
        text = ort.text_only(self.key.removesuffix("+int8"), int8=int8)
        if text is None:
            return None
        try:
            towers = ort.ImageTower(image)
        except Exception as e:  # noqa: BLE001 - a damaged cache file: the torch model still works
            ort.log.warning("ONNX towers unavailable, loading torch: %s: %s", type(e).__name__, e)
            return None
        return _onnx_loaded(meta, towers, text, int8)

    def _from_folder(self, folder: Path, int8: bool) -> _Loaded:
        """CLIP from a model folder in ONNX form (see :mod:`organizer.models.onnx_folders`)."""
        from organizer.models import ort

        try:
            if int8 and not (folder / "image-int8.onnx").is_file():  # quantised here, once (no torch needed)
                folder = ort.int8_folder(folder, self.key.removesuffix("+int8"))
            image = folder / ("image-int8.onnx" if int8 else "image.onnx")
            meta = ort.image_meta(folder)
            if meta is None or not image.is_file():
                raise FileNotFoundError(f"{image.name} or image.json is missing")
            return _onnx_loaded(meta, ort.ImageTower(image), ort.TextOnly(folder, int8), int8)
        except Exception as e:  # noqa: BLE001 - any missing or damaged file: one message
            raise ModelUnavailableError("clip", self.spec, str(folder), f"{type(e).__name__}: {e}") from e

    def torch_loaded(self) -> _Loaded:
        """CLIP as a torch model (fine-tuning, training a head on unfrozen layers need its weights), loaded now
        where the towers run on ONNX Runtime alone."""
        m = self.loaded
        if m.model is not None:
            return m
        with self._lock:
            if self._torch is None:
                self._torch = self._load_torch()
        return self._torch

    def _load_torch(self) -> _Loaded:
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
        loaded = _Loaded(
            model=model, tokenizer=tokenizer, device=device,
            dtype=torch.bfloat16 if use_bf16 else None,
            image_size=int(config.vision_config.image_size),
            mean=t(mean, dtype=torch.float32, device=device).view(1, 3, 1, 1),
            std=t(std, dtype=torch.float32, device=device).view(1, 3, 1, 1),
            max_text=int(config.text_config.max_position_embeddings),
            path="torch bf16" if use_bf16 else "torch fp32",
        )
        self._choose_path(loaded)
        if device == "cpu" and self.backend != "torch":
            self._export_text(loaded)
        return loaded

    def _export_text(self, m: _Loaded) -> None:
        """The text tower and tokenizer into the user cache, once per model: later searches from the command
        line embed their query without loading torch (see :meth:`embed_texts`)."""
        from organizer.models import ort

        try:
            ort.export_text(m.model, m.tokenizer, m.max_text, ort.model_folder(self.key.removesuffix("+int8")))
        except Exception as e:  # noqa: BLE001 - an optimisation: the full model works without it
            ort.log.warning("could not export the text tower alone: %s: %s", type(e).__name__, e)

    def _choose_path(self, m: _Loaded) -> None:
        """ONNX Runtime where it is asked for (backend onnx, precision int8) or measured faster than torch
        on this machine (auto, once per model and machine, remembered in the user cache); torch else.
        bf16 stays with torch where the CPU runs it natively; GPUs stay with torch."""
        from organizer.models import ort

        if m.device != "cpu" or self.backend == "torch" or self.precision == "bf16":
            return
        int8 = self.precision == "int8"
        if self.backend == "auto" and not int8 and m.dtype is not None:
            return  # native bf16: torch's bf16 path is the fast one
        try:
            towers = ort.Towers(*ort.export(m.model, m.image_size, ort.model_folder(self.key.removesuffix("+int8")),
                                            int8=int8))
        except Exception as e:  # noqa: BLE001 - torch always works: fall back to it, say why in the log
            if int8 or self.backend == "onnx":
                raise ModelUnavailableError("clip", self.spec, "ONNX Runtime", f"could not export or load the "
                                            f"ONNX towers ({type(e).__name__}: {e})") from e
            ort.log.warning("ONNX path unavailable, using torch: %s: %s", type(e).__name__, e)
            return
        path = "onnx int8" if int8 else "onnx fp32"
        if self.backend == "auto" and not int8:
            path = self._measured(m, towers)
        if path.startswith("onnx"):
            m.towers, m.path = towers, path
        config: Any = m.model.config
        folder = ort.model_folder(self.key.removesuffix("+int8"))
        try:  # what the towers need to run without the torch model, next time
            ort.write_image_meta(folder, {
                "image_size": m.image_size, "mean": m.mean.flatten().tolist(), "std": m.std.flatten().tolist(),
                "dim": int(config.projection_dim), "max_text": m.max_text,
                "logit_scale": float(m.model.logit_scale.exp().item())})
        except OSError as e:
            ort.log.warning("could not write the towers' meta: %s", e)

    def _measured(self, m: _Loaded, towers: Any) -> str:
        from organizer.models import ort

        def pixels() -> np.ndarray:
            return np.random.default_rng(0).integers(0, 255, (8, m.image_size, m.image_size, 3), dtype=np.uint8)

        return ort.faster(f"clip|{self.key}", lambda b: self._torch_pixels(m, b),
                          lambda b: towers.image(self._normalised(m, b)), pixels, 8, names=("torch fp32", "onnx fp32"))

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """(n, s, s, 3) uint8 from :func:`prepare` -> (n, dim) float32, L2-normalised."""

        m = self.loaded
        if len(pixels) == 0:
            return np.zeros((0, self.dim), np.float32)
        if m.towers is not None:
            return _unit(m.towers.image(self._normalised(m, pixels)))
        return self._torch_pixels(m, pixels)

    def _torch_pixels(self, m: _Loaded, pixels: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.array(pixels, dtype=np.uint8, copy=not pixels.flags.writeable, order="C"))
            x = x.to(m.device)
            x = x.permute(0, 3, 1, 2).float().div_(255.0).sub_(m.mean).div_(m.std)
            with self._autocast(m):
                out = m.model.get_image_features(pixel_values=x)
            return _normalise(_features(out))

    @staticmethod
    def _normalised(m: _Loaded, pixels: np.ndarray) -> np.ndarray:
        """uint8 (n, s, s, 3) -> float32 (n, 3, s, s) as CLIP expects, in numpy (the ONNX path needs no torch)."""
        mean = np.asarray(m.mean.cpu().numpy() if hasattr(m.mean, "cpu") else m.mean).reshape(1, 3, 1, 1)
        std = np.asarray(m.std.cpu().numpy() if hasattr(m.std, "cpu") else m.std).reshape(1, 3, 1, 1)
        x = np.asarray(pixels, np.float32).transpose(0, 3, 1, 2) / 255.0
        return np.ascontiguousarray((x - mean) / std, dtype=np.float32)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if not self.is_loaded and self.backend != "torch" and self.want_device in ("auto", "cpu"):
            # a process that has not loaded CLIP (a search from the command line): the text tower alone,
            # exported by an earlier run, without torch or transformers (the same embeddings, tested)
            from organizer.models import ort

            fast = ort.text_only(self.key.removesuffix("+int8"), int8=self.precision == "int8")
            if fast is not None:
                return fast.embed(texts)
        m = self.loaded
        if m.text is not None:  # the towers alone, no torch model
            return np.asarray(m.text.embed(texts), np.float32)
        import torch

        if m.towers is not None:
            tok = m.tokenizer(texts, padding=True, truncation=True, max_length=m.max_text, return_tensors="np")
            return _unit(m.towers.text(tok["input_ids"], tok["attention_mask"]))
        tok = m.tokenizer(texts, padding=True, truncation=True, max_length=m.max_text, return_tensors="pt")
        with torch.inference_mode(), self._autocast(m):
            out = m.model.get_text_features(input_ids=tok["input_ids"].to(m.device),
                                            attention_mask=tok["attention_mask"].to(m.device))
        return _normalise(_features(out))

    def embed_images(self, images: list[Image.Image], mode: str = "crop") -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return self.embed_pixels(np.stack([prepare(im, self.image_size, mode) for im in images]))

    def logit_scale(self) -> float:
        """CLIP's learnt temperature (about 100 for trained models)."""
        m = self.loaded
        if m.model is None:
            return m.logit
        return float(m.model.logit_scale.exp().item())

    @property
    def dim(self) -> int:
        m = self.loaded
        return m.dim if m.model is None else int(m.model.config.projection_dim)

    @staticmethod
    def _autocast(m: _Loaded) -> Any:
        import contextlib

        import torch

        if m.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda" if m.device == "cuda" else "cpu", dtype=m.dtype)


def _onnx_loaded(meta: dict[str, Any], towers: Any, text: Any, int8: bool) -> _Loaded:
    """CLIP's towers on ONNX Runtime alone: no torch model, no transformers tokenizer."""
    return _Loaded(model=None, tokenizer=None, device="cpu", dtype=None, image_size=int(meta["image_size"]),
                   mean=np.asarray(meta["mean"], np.float32).reshape(1, 3, 1, 1),
                   std=np.asarray(meta["std"], np.float32).reshape(1, 3, 1, 1), max_text=int(meta["max_text"]),
                   towers=towers, path="onnx int8" if int8 else "onnx fp32", dim=int(meta["dim"]),
                   logit=float(meta["logit_scale"]), text=text)


def _features(out: Any) -> Any:
    # transformers 5 returns an output object whose pooler_output holds the projected features.
    if hasattr(out, "pooler_output") and not hasattr(out, "shape"):
        return out.pooler_output
    return out


def _normalise(t: Any) -> np.ndarray:
    return _unit(t.float().cpu().numpy())


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return (v / np.maximum(n, 1e-12)).astype(np.float32)


def _model_key(spec: str, folder: Path | None) -> str:
    """Names the embedding space: a hub id as is, a local folder by its name and a digest of its files; an
    ONNX folder exported from a model keeps that model's (the same embeddings: nothing is embedded again)."""
    if folder is None:
        return spec
    try:
        space = json.loads((folder / "organizer.json").read_text()).get("space")
    except (OSError, ValueError, AttributeError):
        space = None
    if isinstance(space, str) and space:
        return space
    return f"{folder.name}@{folder_digest(folder)}"
