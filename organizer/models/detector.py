"""Objects from a torchvision detector, folded into the COCO super-categories."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from organizer.errors import ModelUnavailableError
from organizer.fsutil import write_atomic
from organizer.models.base import LazyModel, best_device, folder_digest
from organizer.parts import Box, super_category

# Faster R-CNN ResNet50 FPN v2 (box mAP 46.7) costs about 4.5 s a photo on 2 CPU cores; the
# MobileNetV3-320 variant (mAP 22.8) about 0.09 s. On a CPU the cheap one keeps the parts pass
# near the first pass's speed; a GPU runs the accurate one in tens of milliseconds.
DEFAULT_BY_DEVICE = {"cuda": "fasterrcnn_resnet50_fpn_v2", "mps": "fasterrcnn_mobilenet_v3_large_fpn",
                     "cpu": "fasterrcnn_mobilenet_v3_large_320_fpn"}
ARCHITECTURES = (
    "fasterrcnn_resnet50_fpn_v2", "fasterrcnn_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_fpn",
    "fasterrcnn_mobilenet_v3_large_320_fpn", "ssdlite320_mobilenet_v3_large", "ssd300_vgg16",
    "retinanet_resnet50_fpn_v2", "retinanet_resnet50_fpn", "fcos_resnet50_fpn",
)
FOLDER_FORMAT = "organizer-detector-1"


@dataclass(slots=True)
class Detection:
    type: str  # super-category
    label: str  # the detector's own class name
    box: Box  # 0..1
    score: float


@dataclass(slots=True)
class _Loaded:
    model: Any
    categories: list[str]
    device: str
    name: str
    session: Any = None  # ort.DetectorSession when ONNX Runtime runs the detector, else None (torch)
    path: str = "torch"  # the path chosen, named for status and benchmarks


class Detector(LazyModel):
    role = "detector"

    def __init__(self, spec: str = "auto", folder: Path | None = None, device: str = "auto",
                 score_threshold: float = 0.5, backend: str = "auto") -> None:
        super().__init__()
        self.spec = spec
        self.folder = folder
        self.want_device = device
        self.score_threshold = score_threshold
        self.backend = backend

    @property
    def path(self) -> str:
        """Where the detector runs: "torch" or "onnx"."""
        return str(self.loaded.path)

    @property
    def key(self) -> str:
        if self.folder is not None:
            cfg = _read_config(self.folder)
            if cfg.get("key"):  # an ONNX folder exported from a model: that model's key (its parts stay done)
                return str(cfg["key"])
            return f"{cfg.get('architecture', '?')}@{self.folder.name}"
        return self.spec if self.spec != "auto" else DEFAULT_BY_DEVICE[best_device(self.want_device)]

    def checkpoint(self) -> tuple[str, Path] | None:
        """(url, cache file) of the torchvision weights this detector loads, or None for a local folder."""
        if self.folder is not None:
            return None
        import torch
        from torchvision.models import get_model_weights

        if self.key not in ARCHITECTURES:
            return None
        url = get_model_weights(self.key).DEFAULT.url
        return url, Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name

    def _load(self) -> _Loaded:
        light = self._load_onnx()
        if light is not None:
            return light
        from organizer.models import ort, packs

        if ort.torch_version() == "none":
            pack = packs.installed("detector", self.key) if self.folder is None else None
            if pack is not None:  # the published ONNX form, downloaded
                self.folder = pack
                return self._load_onnx() or self._load_torch()
            raise ModelUnavailableError("detector", self.key, str(self._meta_file()), "torch is not installed, and "
                                        "this detector has no ONNX form here yet: `organizer index` downloads the "
                                        "published one; or install the train extra (pip install 'organizer[train]')")
        return self._load_torch()

    def _meta_file(self) -> Path:
        """Where the ONNX export's meta (its file, the categories) is kept, found without torch: beside a local
        folder's export, or under torchvision's architecture name for its default weights."""
        from organizer.models import ort

        if self.folder is not None:
            name = str(_read_config(self.folder).get("architecture", "?"))
            where = ort.model_folder(f"{name}@{self.folder.name}@{folder_digest(self.folder, stamped=True)}")
        else:
            where = ort.model_folder(f"torchvision-{self.key}")
        return where / f"detector-{self.score_threshold:g}.json"

    def has_export(self) -> bool:
        """Whether the detector can run from its ONNX export (nothing to download)."""
        from organizer.models import packs

        return self.folder is not None or self._export_meta() is not None or packs.installed(
            "detector", self.key) is not None

    def _export_meta(self) -> dict[str, Any] | None:
        try:
            meta = json.loads(self._meta_file().read_text())
        except (OSError, ValueError, ModelUnavailableError):
            return None
        if not isinstance(meta, dict) or not Path(str(meta.get("export", ""))).is_file():
            return None
        return meta

    def _load_onnx(self) -> _Loaded | None:
        """The detector from its ONNX export, without torch or torchvision, where ONNX is this machine's path
        for it (asked for, measured faster and remembered, or torch not installed); None otherwise."""
        from organizer.models import ort
        from organizer.models.onnx_folders import is_onnx_detector

        if is_onnx_detector(self.folder):  # a model folder in ONNX form: nothing else to choose from
            assert self.folder is not None
            cfg = _read_config(self.folder)
            try:
                session = ort.DetectorSession(self.folder / "detector.onnx")
            except Exception as e:  # noqa: BLE001 - any missing or damaged file: one message
                raise ModelUnavailableError("detector", str(self.folder), str(self.folder / "detector.onnx"),
                                            f"{type(e).__name__}: {e}") from e
            return _Loaded(None, [str(c) for c in cfg.get("categories", [])], "cpu",
                           str(cfg.get("architecture", "?")), session, "onnx")
        if self.backend == "torch" or self.want_device not in ("auto", "cpu") or best_device(self.want_device) != "cpu":
            return None
        meta = self._export_meta()
        if meta is None:
            return None
        export = Path(meta["export"])
        if self.backend != "onnx" and ort.torch_version() != "none" and ort.remembered(
                ort.choice_key(f"detector|{export.parent.name}|{self.score_threshold:g}")) != "onnx":
            return None
        try:
            session = ort.DetectorSession(export)
        except Exception as e:  # noqa: BLE001 - a damaged cache file: torch still works
            ort.log.warning("ONNX detector unavailable, loading torch: %s: %s", type(e).__name__, e)
            return None
        return _Loaded(None, [str(c) for c in meta["categories"]], "cpu", str(meta["name"]), session, "onnx")

    def torch_loaded(self) -> _Loaded:
        """The detector as a torch model (an export needs its weights), whatever path it runs on."""
        m = self.loaded
        return m if m.model is not None else self._load_torch()

    def _load_torch(self) -> _Loaded:
        from torchvision.models import get_model, get_model_weights

        device = best_device(self.want_device)
        if self.folder is not None:
            model, categories, name = _load_folder(self.folder)
        else:
            name = self.spec if self.spec != "auto" else DEFAULT_BY_DEVICE[device]
            if name not in ARCHITECTURES:
                raise ModelUnavailableError("detector", name, "torchvision's detection models",
                                            f"unknown architecture; choose one of {', '.join(ARCHITECTURES)}")
            weights = get_model_weights(name).DEFAULT
            cache = self.checkpoint()[1]  # type: ignore[index]  # a known architecture always has one
            try:
                # torchvision loads its checkpoints with weights_only=True.
                model = get_model(name, weights=weights)
            except Exception as e:  # noqa: BLE001 - any download or file error becomes one message
                raise ModelUnavailableError("detector", name, f"{cache} (downloaded from torchvision's "
                                            "model store on first use)", str(e).splitlines()[0][:200]) from e
            categories = list(weights.meta["categories"])
        _set_threshold(model, self.score_threshold)
        model.eval().to(device)
        loaded = _Loaded(model, categories, device, name)
        self._choose_path(loaded)
        return loaded

    def _export_file(self, m: _Loaded) -> Path:
        """Where the ONNX export lives in the user cache: named by the weights (a local folder by its files'
        digest and times, torchvision's by its checkpoint's name, which carries a hash) and the score
        threshold, which the export keeps."""
        from organizer.models import ort

        if self.folder is not None:
            weights = f"{m.name}@{self.folder.name}@{folder_digest(self.folder, stamped=True)}"
        else:
            point = self.checkpoint()
            weights = Path(point[0]).stem if point else m.name
        return ort.model_folder(weights) / f"detector-{self.score_threshold:g}.onnx"

    def _choose_path(self, m: _Loaded) -> None:
        """ONNX Runtime where asked for (backend onnx) or measured faster than torch on this machine (auto, once
        per model and machine, remembered in the user cache); torch else, and always on a GPU."""
        from organizer.models import ort

        if m.device != "cpu" or self.backend == "torch":
            return
        export = self._export_file(m)
        try:
            session = ort.DetectorSession(ort.export_detector(m.model, export))
        except Exception as e:  # noqa: BLE001 - torch always works: fall back to it, say why in the log
            if self.backend == "onnx":
                raise ModelUnavailableError("detector", m.name, "ONNX Runtime", "could not export or load the "
                                            f"detector as ONNX ({type(e).__name__}: {e})") from e
            ort.log.warning("ONNX path for the detector unavailable, using torch: %s: %s", type(e).__name__, e)
            return
        meta = self._meta_file()
        try:  # what loading it without torch needs, next time
            meta.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(meta, json.dumps({"export": str(export), "categories": m.categories, "name": m.name}))
        except OSError as e:
            ort.log.warning("could not write the detector export's meta: %s", e)
        if self.backend == "onnx" or self._measured(m, session, export) == "onnx":
            m.session, m.path = session, "onnx"

    def _measured(self, m: _Loaded, session: Any, export: Path) -> str:
        from organizer.models import ort

        def photos() -> list[np.ndarray]:
            # photos arrive at the detection canvas (1333 px on the long side); a smooth scene, not noise
            y, x = np.mgrid[0:1000, 0:1333].astype(np.float32)
            image = np.stack([np.sin(x / 97) * np.cos(y / 61), np.cos(x / 41), np.sin((x + y) / 173)]) * 0.5 + 0.5
            return [np.ascontiguousarray(image, np.float32), np.ascontiguousarray(image[:, ::-1], np.float32)]

        return ort.faster(f"detector|{export.parent.name}|{self.score_threshold:g}", lambda b: self._run_torch(m, b),
                          lambda b: [session.detect(i) for i in b], photos, 2)

    @staticmethod
    def _run_torch(m: _Loaded, images: list[Any]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(boxes, labels, scores) per image, from (3, h, w) float 0..1 arrays or tensors."""
        import torch

        tensors = [torch.as_tensor(im).to(m.device) for im in images]
        with torch.inference_mode():
            outputs = m.model(tensors)
        return [(o["boxes"].float().cpu().numpy(), o["labels"].cpu().numpy(), o["scores"].float().cpu().numpy())
                for o in outputs]

    def detect(self, images: list[Image.Image]) -> list[list[Detection]]:
        """Detections per image, best first, with boxes relative to each image's size."""
        m = self.loaded
        if not images:
            return []
        arrays = [np.ascontiguousarray(np.asarray(im if im.mode == "RGB" else im.convert("RGB"), np.float32)
                                       .transpose(2, 0, 1) / 255.0) for im in images]
        if m.session is not None:
            outputs = [m.session.detect(a) for a in arrays]
        else:
            outputs = self._run_torch(m, arrays)
        result = []
        for im, (boxes, labels, scores) in zip(images, outputs, strict=True):
            w, h = im.size
            found = []
            for b, s, lab in zip(boxes, scores, labels, strict=True):
                if s < self.score_threshold:
                    continue
                name = m.categories[int(lab)] if 0 <= int(lab) < len(m.categories) else ""
                sup = super_category(name)
                if sup is None:
                    continue
                box = (float(np.clip(b[0] / w, 0, 1)), float(np.clip(b[1] / h, 0, 1)),
                       float(np.clip(b[2] / w, 0, 1)), float(np.clip(b[3] / h, 0, 1)))
                found.append(Detection(sup.value, name, box, float(s)))
            found.sort(key=lambda d: -d.score)
            result.append(found)
        return result


def _set_threshold(model: Any, threshold: float) -> None:
    # Let the model itself drop what we would drop, so post-processing does less work.
    if hasattr(model, "roi_heads"):
        model.roi_heads.score_thresh = threshold
    elif hasattr(model, "score_thresh"):
        model.score_thresh = threshold


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as e:
        raise ModelUnavailableError("detector", str(folder), str(path), "missing or unreadable config.json") from e


def _load_folder(folder: Path) -> tuple[Any, list[str], str]:
    """A folder holding config.json ({architecture, categories}) and model.safetensors."""
    import torch
    from safetensors.torch import load_file
    from torchvision.models import get_model

    cfg = _read_config(folder)
    name = cfg.get("architecture", "")
    categories = list(cfg.get("categories", []))
    if name not in ARCHITECTURES or not categories:
        raise ModelUnavailableError("detector", str(folder), str(folder / "config.json"),
                                    "config.json must name a torchvision architecture and its categories")
    model = get_model(name, weights=None, weights_backbone=None, num_classes=len(categories))
    st, pth = folder / "model.safetensors", sorted(folder.glob("*.pth"))
    try:
        if st.is_file():
            state = load_file(str(st))
        elif pth:
            state = torch.load(pth[0], map_location="cpu", weights_only=True)  # never unpickle objects
        else:
            raise FileNotFoundError("no model.safetensors or .pth file")
        model.load_state_dict(state)
    except Exception as e:  # noqa: BLE001
        raise ModelUnavailableError("detector", str(folder), str(folder), str(e).splitlines()[0][:200]) from e
    return model, categories, name


def save_folder(model: Any, name: str, categories: list[str], folder: Path) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(
        {"format": FOLDER_FORMAT, "architecture": name, "categories": categories}, indent=1))
