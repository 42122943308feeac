"""Models through ONNX Runtime: CLIP's two towers and the object detector, exported once per model into the
user's cache (keyed by the model's key, which names its files' digest for local folders), and used where
measured faster than torch on the machine at hand. fp32 ONNX gives torch's embeddings and detections
(checked by the tests); int8 (dynamic quantisation) is opt-in and names its own embedding space, so its
vectors never mix with fp32 ones."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from organizer.fsutil import replacing, write_atomic
from organizer.settings import user_cache

log = logging.getLogger("organizer")


def model_folder(model_key: str) -> Path:
    return user_cache() / "onnx" / re.sub(r"[^A-Za-z0-9._@+-]+", "_", model_key)


def session(path: Path, threads: int | None = None, spin: bool = False) -> Any:
    """An ONNX Runtime session on the CPU, all graph optimisations on. ``spin``: idle threads spin (a lone
    query answers sooner; in a pipeline they would take the read-ahead threads' cores)."""
    import onnxruntime as ort

    mapped(path)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = threads or os.cpu_count() or 1
    opts.log_severity_level = 3
    if not spin:
        # between batches ONNX Runtime's threads sleep instead of spinning: the read-ahead threads decoding
        # the next photos get the cores
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


# Exports above this size keep their weights in a file of their own beside the model ("NAME.onnx.data"):
# ONNX Runtime maps that file instead of parsing and copying the weights out of the model, so a session opens
# in about a third of the time (CLIP B/32's text tower, 254 MB: 0.22 s against 0.55-0.60 s), which a cold
# search waits for.
MAPPED_FROM = 32 * 1024 * 1024


def save_mapped(model: Any, target: Path) -> None:
    """Write the ONNX ``model`` (a ModelProto) as ``target``, its weights in ``target.data``. The weights go
    first and the model file is renamed into place last, so a killed write leaves the previous file in use."""
    import onnx

    data = target.with_name(target.name + ".data")
    tmp = target.with_name(target.name + ".tmp")
    data.unlink(missing_ok=True)  # onnx appends to a data file that is there; this one no model file names
    try:
        onnx.save_model(model, str(tmp), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data.name, size_threshold=1024)
    except BaseException:
        for leftover in (tmp, data):  # a full disk leaves no half-written weights behind
            leftover.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)


def mapped(path: Path) -> None:
    """An export from before its weights were kept apart (or a big one written whole) is rewritten once, in
    place, with its weights beside it."""
    try:
        if path.stat().st_size < MAPPED_FROM:
            return
        import onnx

        save_mapped(onnx.load(str(path)), path)
        log.info("ONNX weights moved beside the model, to be mapped: %s", path)
    except Exception as e:  # noqa: BLE001 - a cache that cannot be rewritten (read-only, full disk) still loads
        log.warning("could not keep the weights of %s apart: %s: %s", path, type(e).__name__, e)


class ImageTower:
    """The image tower alone (the text tower runs through :class:`TextOnly`): the towers without torch."""

    def __init__(self, image: Path, threads: int | None = None) -> None:
        self.image_session = session(image, threads)

    def image(self, pixels: np.ndarray) -> np.ndarray:
        return np.asarray(self.image_session.run(None, {"pixels": pixels})[0], np.float32)


class Towers:
    """ONNX Runtime sessions for the image and the text tower (projected, not normalised, features)."""

    def __init__(self, image: Path, text: Path, threads: int | None = None) -> None:
        self.image_session = session(image, threads)
        self.text_session = session(text, threads)

    def image(self, pixels: np.ndarray) -> np.ndarray:
        """(n, 3, s, s) float32, normalised as CLIP expects -> (n, dim) float32."""
        return np.asarray(self.image_session.run(None, {"pixels": pixels})[0], np.float32)

    def text(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.asarray(self.text_session.run(None, {"ids": ids.astype(np.int64),
                                                       "mask": mask.astype(np.int64)})[0], np.float32)


def export(model: Any, image_size: int, folder: Path, int8: bool = False) -> tuple[Path, Path]:
    """The towers of a transformers CLIPModel as ONNX files in ``folder`` (made once; int8: quantised
    copies beside them). Written to temporary names and renamed, so a killed export leaves nothing half."""
    image, text = folder / "image.onnx", folder / "text.onnx"
    if not (image.is_file() and text.is_file()):
        import torch

        folder.mkdir(parents=True, exist_ok=True)

        class Image(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.m = model

            def forward(self, x: Any) -> Any:
                out = self.m.get_image_features(pixel_values=x)
                return out if torch.is_tensor(out) else out.pooler_output

        model = model.float().eval()
        t = time.perf_counter()
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            _export(Image(), (torch.zeros(2, 3, image_size, image_size),), image, ["pixels"],
                    {"pixels": {0: "n"}, "embeds": {0: "n"}})
            _export_text(model, text)
        log.info("exported CLIP to ONNX in %.1f s: %s", time.perf_counter() - t, folder)
    if not int8:
        return image, text
    return quantise(folder)


def quantise(folder: Path) -> tuple[Path, Path]:
    """int8 copies of the towers in ``folder`` (dynamic quantisation, weights per tensor, by ONNX Runtime's
    quantiser: no torch), beside them; made once."""
    image, text = folder / "image.onnx", folder / "text.onnx"
    q_image, q_text = folder / "image-int8.onnx", folder / "text-int8.onnx"
    for src, dst in ((image, q_image), (text, q_text)):
        if not dst.is_file():
            from onnxruntime.quantization import QuantType, quantize_dynamic

            whole = dst.with_name(dst.name + ".whole")
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # its advice to pre-process is for static quantisation, not this
            try:
                quantize_dynamic(str(src), str(whole), weight_type=QuantType.QInt8)
            finally:
                root.setLevel(level)
            _place(whole, dst)
    return q_image, q_text


def int8_folder(folder: Path, model_key: str) -> Path:
    """A folder holding the int8 towers of the ONNX model folder ``folder``, with its tokenizer and meta:
    ``folder`` itself where it can be written (a downloaded pack, an export in the cache), else a copy of
    the small files in the user's cache beside the quantised towers."""
    import shutil

    target = folder
    if not os.access(folder, os.W_OK):
        target = model_folder(model_key) / "int8"
        target.mkdir(parents=True, exist_ok=True)
        for name in (TOKENIZER, TEXT_META, IMAGE_META, "organizer.json"):
            if (folder / name).is_file() and not (target / name).is_file():
                shutil.copyfile(folder / name, target / name)
        for name in ("image.onnx", "text.onnx"):
            if not (target / name).exists():
                (target / name).symlink_to((folder / name).resolve())
    quantise(target)
    return target


def _export_text(model: Any, target: Path) -> None:
    """CLIP's text tower (ids and attention mask in, projected features out) as ONNX."""
    import torch

    class Text(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = model

        def forward(self, ids: Any, mask: Any) -> Any:
            out = self.m.get_text_features(input_ids=ids, attention_mask=mask)
            return out if torch.is_tensor(out) else out.pooler_output

    ids = torch.ones((2, 7), dtype=torch.long)
    _export(Text(), (ids, torch.ones_like(ids)), target, ["ids", "mask"],
            {"ids": {0: "n", 1: "length"}, "mask": {0: "n", 1: "length"}, "embeds": {0: "n"}})


def _export(module: Any, args: tuple[Any, ...], target: Path, names: list[str], axes: dict[str, dict[int, str]]) -> None:
    import torch

    whole = target.with_name(target.name + ".whole")
    torch.onnx.export(module, args, str(whole), input_names=names, output_names=["embeds"], dynamic_axes=axes,
                      opset_version=18, dynamo=False)
    _place(whole, target)


def _place(whole: Path, target: Path) -> None:
    """A model just written whole (by torch's export or the quantiser) put at ``target`` with its weights apart."""
    import onnx

    save_mapped(onnx.load(str(whole)), target)
    whole.unlink()


# ---- the text tower alone: a query without torch or transformers --------------------------------

TOKENIZER = "tokenizer.json"  # the fast tokenizer's own file, beside the export
TEXT_META = "text.json"


def export_text(model: Any, tokenizer: Any, max_text: int, folder: Path) -> bool:
    """Make sure ``folder`` holds the text tower as ONNX and the tokenizer's file, so that a process that
    only needs text embeddings (a search from the command line) runs neither torch nor transformers.
    False where the tokenizer has no fast (Rust) form."""
    if not getattr(tokenizer, "is_fast", False):
        return False
    text = folder / "text.onnx"
    if not text.is_file():
        import torch

        folder.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            _export_text(model.float().eval(), text)
    if not (folder / TOKENIZER).is_file() or not (folder / TEXT_META).is_file():
        with replacing(folder / TOKENIZER) as tmp:
            tokenizer.backend_tokenizer.save(str(tmp))
        meta = {"max_text": max_text, "pad_id": tokenizer.pad_token_id, "pad_token": tokenizer.pad_token}
        write_atomic(folder / TEXT_META, json.dumps(meta))
    return True


IMAGE_META = "image.json"  # beside the towers: what running them needs without the torch model


def write_image_meta(folder: Path, meta: dict[str, Any]) -> None:
    if (folder / IMAGE_META).is_file():
        return
    write_atomic(folder / IMAGE_META, json.dumps(meta))


def image_meta(folder: Path) -> dict[str, Any] | None:
    """The towers' meta (image size, mean and std, dimension, logit scale, text length), where an export
    wrote it (None: not exported, or by an older version)."""
    try:
        data = json.loads((folder / IMAGE_META).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class TextOnly:
    """CLIP's text tower through ONNX Runtime, tokenised by the `tokenizers` library alone."""

    def __init__(self, folder: Path, int8: bool = False) -> None:
        from tokenizers import Tokenizer

        meta = json.loads((folder / TEXT_META).read_text())
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self.tokenizer.enable_truncation(max_length=int(meta["max_text"]))
        self.tokenizer.enable_padding(pad_id=int(meta["pad_id"]), pad_token=str(meta["pad_token"]))
        self.session = session(folder / ("text-int8.onnx" if int8 else "text.onnx"), spin=True)

    def embed(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], np.int64)
        mask = np.array([e.attention_mask for e in enc], np.int64)
        out = np.asarray(self.session.run(None, {"ids": ids, "mask": mask})[0], np.float32)
        return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)).astype(np.float32)


_text_only: dict[tuple[str, bool], TextOnly] = {}


def text_only(model_key: str, int8: bool = False) -> TextOnly | None:
    """The text tower alone for ``model_key``, where an earlier run exported it (None otherwise)."""
    folder = model_folder(model_key)
    needed = [folder / TOKENIZER, folder / TEXT_META, folder / ("text-int8.onnx" if int8 else "text.onnx")]
    if not all(p.is_file() for p in needed):
        return None
    key = (str(folder), int8)
    if key not in _text_only:
        try:
            _text_only[key] = TextOnly(folder, int8)
        except Exception as e:  # noqa: BLE001 - a damaged cache file: the full model still works
            log.warning("text tower alone unavailable: %s: %s", type(e).__name__, e)
            return None
    return _text_only[key]


# ---- the object detector ----------------------------------------------------------------------

class DetectorSession:
    """A torchvision detector through ONNX Runtime: one image (3, h, w) float32 in 0..1 at a time, its
    detections (boxes in the image's pixels, labels, scores) out, as the torch model gives them."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        self.session = session(path, threads)

    def detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        boxes, labels, scores = self.session.run(None, {"image": image})
        return np.asarray(boxes, np.float32), np.asarray(labels, np.int64), np.asarray(scores, np.float32)


def export_detector(model: Any, target: Path) -> Path:
    """A torchvision detection model (in eval mode, on the CPU, its score threshold set: the export keeps
    it) as ONNX at ``target``, made once, any image size. Written to a temporary name and renamed."""
    if target.is_file():
        return target
    import torch

    target.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    n = {0: "n"}
    with warnings.catch_warnings(), torch.no_grad(), replacing(target) as tmp:
        warnings.simplefilter("ignore")
        torch.onnx.export(model, ([torch.rand(3, 480, 640)],), str(tmp), input_names=["image"],
                          output_names=["boxes", "labels", "scores"], opset_version=18, dynamo=False,
                          dynamic_axes={"image": {1: "h", 2: "w"}, "boxes": n, "labels": n, "scores": n})
    log.info("exported the detector to ONNX in %.1f s: %s", time.perf_counter() - t, target)
    return target


# ---- measure, then choose ----------------------------------------------------------------------

def _choices_file() -> Path:
    return user_cache() / "choices.json"


def remembered(key: str) -> str | None:
    try:
        data = json.loads(_choices_file().read_text())
    except (OSError, ValueError):
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def remember(key: str, choice: str, figures: dict[str, float]) -> None:
    path = _choices_file()
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[key] = choice
    data[key + "|figures"] = figures
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, indent=1))


def choice_key(what: str) -> str:
    """Where the measured choice for ``what`` is remembered: this machine, these versions of torch and ONNX
    Runtime (read from their installed metadata: asking needs no torch)."""
    import onnxruntime

    from organizer.models.cpu import machine_signature

    return f"{what}|{machine_signature()}|torch {torch_version()}|ort {onnxruntime.__version__}"


def torch_version() -> str:
    """torch's ``__version__`` (local tag included: "2.14.1+cu130"), read from its version file without
    importing it; "none" where torch is not installed."""
    import importlib.util

    if "torch" in sys.modules:
        return str(sys.modules["torch"].__version__)
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):  # a broken install: as good as none
        return "none"
    if spec is None or not spec.submodule_search_locations:
        return "none"
    for folder in spec.submodule_search_locations:
        try:
            found = re.search(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", (Path(folder) / "version.py").read_text(),
                              re.MULTILINE)
        except OSError:
            continue
        if found:
            return found.group(1)
    return "unknown"


def faster(what: str, torch_run: Any, onnx_run: Any, make_batch: Any, n: int,
           names: tuple[str, str] = ("torch", "onnx")) -> str:
    """The faster path for ``what`` (a model and what its result depends on) on this machine, torch's or ONNX
    Runtime's name in ``names``: measured once on ``make_batch()`` (``n`` items), the two taking turns, and
    remembered in the user cache for this machine and these versions of torch and ONNX Runtime."""
    key = choice_key(what)
    choice = remembered(key)
    if choice is None:
        torch_s, onnx_s = time_per_item(torch_run, onnx_run, batch=make_batch(), n=n)
        choice = names[1] if onnx_s < torch_s else names[0]
        remember(key, choice, {"torch_ms": torch_s * 1000, "onnx_ms": onnx_s * 1000})
    return choice


def time_per_item(*runs: Any, batch: Any, n: int, rounds: int = 3) -> list[float]:
    """Seconds per item of each ``run(batch)``, after a warm-up call of each: the runs take turns, ``rounds``
    times, and each keeps its best, so that a moment of load elsewhere on the machine (another program, a
    test run) does not decide a choice that is remembered."""
    for run in runs:
        run(batch)
    best = [float("inf")] * len(runs)
    for _ in range(rounds):
        for i, run in enumerate(runs):
            t = time.perf_counter()
            run(batch)
            best[i] = min(best[i], time.perf_counter() - t)
    return [b / n for b in best]
