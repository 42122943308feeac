"""One typed settings object: defaults, a per-user file, per-call overrides.

Precedence, lowest first: the defaults below, the user's ``settings.json`` in the platform's
config folder (or the file named by ``ORGANIZER_SETTINGS``), ``ORGANIZER_LIBRARY``, then
overrides passed by the caller (command-line flags, the GUI's settings page).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
import platformdirs
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from organizer.errors import BadArgumentError
from organizer.fsutil import write_atomic
from organizer.media.limits import (
    MAX_FILE_BYTES,
    MAX_PIXELS,
    MAX_VIDEO_BYTES,
    NATIVE_DECODE_SECONDS,
    READ_STALL_SECONDS,
)
from organizer.parts import PART_TYPES

APP_NAME = "organizer"


# Where the release workflow publishes the default models in ONNX form: assets of the release "models-1" of
# organizer's repository (see organizer/models/packs.py).
MODELS_URL = "https://github.com/organizer-app/organizer/releases/download/models-1"


class _Section(BaseModel):
    # NaN and infinity are refused everywhere: they pass every comparison and are not JSON.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class ModelSettings(_Section):
    dir: Path | None = Field(None, title="Local models folder",
                             description="A folder with one subfolder per role: clip/, detector/, ocr/.")
    clip: str = Field("openai/clip-vit-base-patch32", title="CLIP model",
                      description="A Hugging Face model id or a local folder.")
    detector: str = Field("auto", title="Object detector",
                          description="'auto' (by device), a torchvision architecture name, or a local folder.")
    ocr: str = Field("easyocr", title="OCR weights",
                     description="'easyocr' (EasyOCR's model folder) or a folder holding its .pth files.")
    face: str = Field("auto", title="Face weights",
                      description="'auto' (the face/ subfolder of the models folder, else the "
                      "face-recognition-models package) or a folder holding dlib's 5-point predictor and "
                      "ResNet descriptor .dat files.")
    download_url: str = Field(
        MODELS_URL, title="Model downloads",
        description="Where an install without torch downloads the default models in ONNX form (the packs the "
        "release workflow publishes, checked against their manifest): a mirror or a local server instead.")
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto", description="'auto': on the ONNX path (no torch, or backend 'onnx') int8 where this library's own "
        "check accepts it, else fp32; with torch, bf16 where the CPU or GPU runs it natively, else fp32. 'int8' "
        "runs CLIP quantised through ONNX Runtime without the check, in an embedding space of its own.")
    backend: Literal["auto", "torch", "onnx"] = Field(
        "auto", description="Where CLIP and the object detector run on the CPU: 'auto' measures torch against "
        "ONNX Runtime once per model and machine and keeps the faster.")


class ScanSettings(_Section):
    follow_links: Literal["safe", "all", "none"] = Field(
        "safe", title="Follow symbolic links",
        description="'safe' follows links to files and folders, except a link to a folder that holds the folder "
        "being scanned (a link to / or to the home folder would walk the whole disk); 'all' follows every link; "
        "'none' follows none. Links into /proc, /sys and /dev are never followed.")


class DecodeSettings(_Section):
    max_pixels: int = Field(MAX_PIXELS, ge=1, description="Larger images are skipped as decompression bombs.")
    max_file_bytes: int = Field(MAX_FILE_BYTES, ge=1, description="Larger photo files are skipped.")
    max_video_bytes: int = Field(MAX_VIDEO_BYTES, ge=1, description="Larger videos are skipped (a video is read "
                                 "in a stream, never into memory).")
    native_decode_seconds: float = Field(
        NATIVE_DECODE_SECONDS, gt=0.0, le=3600.0, description="A RAW or video whose decoding (in LibRaw's or FFmpeg's "
        "native code, which may hang on a damaged file) takes longer is skipped and the run goes on.")
    read_stall_seconds: float = Field(
        READ_STALL_SECONDS, gt=0.0, le=3600.0, description="A file whose reading makes no progress for this long "
        "(a hung network share) is skipped as unreadable and the run goes on; it is tried again at the next scan.")


class EmbedSettings(_Section):
    batch_size: int = Field(32, ge=1, le=1024)
    workers: int = Field(2, ge=1, le=32, description="Threads that read, hash and decode ahead of the model.")


class DetectionSettings(_Section):
    enabled: bool = True
    score_threshold: float = Field(0.5, ge=0.0, le=1.0)
    # The seed kept parts between 0.25 and 0.9 of the photo's area, which drops every face and
    # most objects in a group or street photo. 0.5% of the area (about 110x80 px on a 12 MP
    # photo's 1600 px canvas) still gives CLIP a crop it can read once upscaled to 224 px.
    min_area: float = Field(0.005, ge=0.0, le=1.0)
    # Above 90% a part is the whole photo again and adds nothing to search.
    max_area: float = Field(0.9, ge=0.0, le=1.0)
    max_parts: int = Field(20, ge=0, description="At most this many parts per photo, best first.")
    canvas: int = Field(1333, ge=128, description="Longest side the photo is decoded at for detection.")


class OcrSettings(_Section):
    enabled: bool = True
    engine: Literal["auto", "rapidocr", "easyocr"] = Field(
        "auto", description="'auto': RapidOCR where installed (5x faster at equal recall here), else EasyOCR.")
    canvas: int = Field(960, ge=160, description="Longest side the photo is scaled to before OCR.")
    min_confidence: float = Field(0.3, ge=0.0, le=1.0)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    gate: Literal["clip", "none"] = Field(
        "clip", description="'clip' skips OCR on photos whose whole-photo embedding does not look like text.")
    gate_margin: float = Field(
        -0.01, description="Run OCR when the best text prompt beats the best non-text prompt by this margin.")
    int8_detector: Literal["auto", "off"] = Field(
        "auto", title="int8 text detector",
        description="'auto': RapidOCR's text detector runs in int8 once calibrated on the first 16 photos OCR "
        "reads (the same words found, measured; 1.3-3.4x as fast); 'off': fp32 always.")


class FaceSettings(_Section):
    enabled: bool = True
    min_score: float = Field(0.25, ge=-1.0, le=5.0, description="HOG detector score a face needs (weaker "
                             "detections are mostly patterns that look like a face).")
    min_size: int = Field(40, ge=10, le=1000, description="Faces narrower than this (pixels of the photo as "
                          "analysed) are kept as boxes, without identity: too small to recognise reliably.")
    distance: float = Field(0.6, gt=0.0, le=2.0, description="Descriptor distance within which two faces are "
                            "taken for one person (dlib's published threshold).")
    min_faces: int = Field(2, ge=1, le=1000, description="Faces a group needs before it is shown as a person.")
    grouping: Literal["chinese-whispers", "dbscan"] = "chinese-whispers"
    padding: float = Field(0.15, ge=0.0, le=1.0, description="Person boxes are searched for faces grown by "
                           "this share of their size.")


class SearchSettings(_Section):
    top_k: int = Field(20, ge=1)
    threshold: float = Field(0.0, ge=-10.0, le=10.0)
    weights: dict[str, float] = Field(default_factory=dict, description="Per part type; missing types weigh 1.0.")
    keyword_boost: float = Field(0.5, ge=0.0, description="Added to a photo's score for a full keyword match.")
    label_blend: float = Field(0.5, ge=0.0, le=1.0, description="When a query names a label: the share of the "
                               "label's concept in the score (the rest is CLIP's score for the other words).")
    # Raw cosine ranges (lo, hi) mapped to 0..1 per (query modality, stored modality): CLIP's
    # text-to-image similarities sit around 0.15-0.35, same-modality ones around 0.5-1.0.
    calibration: dict[str, tuple[float, float]] = Field(default_factory=lambda: {
        "text>image": (0.10, 0.35),
        "text>text": (0.50, 1.00),
        "image>image": (0.50, 1.00),
        "image>text": (0.10, 0.35),
    })

    @field_validator("weights")
    @classmethod
    def _known_types(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(PART_TYPES))
        if unknown:
            raise ValueError(f"unknown part types {unknown}; known: {', '.join(PART_TYPES)}")
        bad = sorted(k for k, w in v.items() if not (math.isfinite(w) and 0.0 <= w <= 100.0))
        if bad:
            raise ValueError(f"weights must be numbers from 0 to 100 (not for {', '.join(bad)})")
        return v

    @field_validator("calibration")
    @classmethod
    def _ranges(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for k, (lo, hi) in v.items():
            if not (math.isfinite(lo) and math.isfinite(hi) and -1.0 <= lo < hi <= 1.0):
                raise ValueError(f"{k}: a range lo < hi within -1..1 (got {lo}, {hi})")
        return v


class ClusterSettings(_Section):
    eps: float = Field(0.2, gt=0.0, le=2.0, description="Cosine distance within which photos are neighbours.")
    min_samples: int = Field(2, ge=1, le=10_000)
    metric: Literal["cosine"] = "cosine"


class ProjectionSettings(_Section):
    n_components: int = Field(3, ge=2, le=3)
    perplexity: float = Field(10.0, gt=0.0, le=1000.0)
    max_iter: int = Field(1500, ge=250, le=100_000, description="t-SNE needs at least 250 iterations.")
    init: Literal["pca", "random"] = "pca"
    metric: Literal["cosine"] = "cosine"
    sample: int = Field(3000, ge=1, le=1_000_000)


class LandmarkSettings(_Section):
    enabled: bool = True
    head: str = Field("auto", description="'auto' (a trained head in the library's heads/landmarks, else "
                      "zero-shot), 'zero-shot', or a folder written by `organizer landmarks train`.")
    # Most personal photos show no landmark, and a softmax is confident anyway: show the top label
    # only when it takes most of the probability.
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    max_km: float = Field(5.0, gt=0.0, description="With GPS, landmarks farther than this are rejected.")
    top_k: int = Field(5, ge=1, le=20)


def default_library() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "library"


def user_cache() -> Path:
    """The user's cache (exported models, zero-shot heads, measured choices): rebuilt when deleted.
    ``$ORGANIZER_CACHE`` overrides."""
    env = os.environ.get("ORGANIZER_CACHE")
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_settings_file() -> Path:
    env = os.environ.get("ORGANIZER_SETTINGS")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "settings.json"


class Settings(_Section):
    library: Path = Field(default_factory=default_library, title="Library folder")
    models: ModelSettings = Field(default_factory=ModelSettings)
    scan: ScanSettings = Field(default_factory=ScanSettings)
    decode: DecodeSettings = Field(default_factory=DecodeSettings)
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    faces: FaceSettings = Field(default_factory=FaceSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    clusters: ClusterSettings = Field(default_factory=ClusterSettings)
    projection: ProjectionSettings = Field(default_factory=ProjectionSettings)
    landmarks: LandmarkSettings = Field(default_factory=LandmarkSettings)

    @field_validator("library", mode="before")
    @classmethod
    def _named(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip():
            raise ValueError("empty: give the library folder (an empty name would mean the current folder)")
        return v

    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None, user_file: Path | None = None) -> Settings:
        """Defaults, then the user's file, then the environment, then ``overrides`` (nested dicts)."""
        path = user_file or user_settings_file()
        env = os.environ.get("ORGANIZER_SETTINGS")
        if user_file is None and env and not path.exists() and not path.parent.is_dir():
            # a file not made yet is where the window saves; a folder that is not there is a mistyped name
            raise BadArgumentError(f"ORGANIZER_SETTINGS names {path}, in a folder that does not exist")
        data = read_file(path)
        try:  # the file alone first: a bad value there is the file's, a bad flag is not
            cls.model_validate(data)
        except ValidationError as e:
            raise BadArgumentError(describe(e, path)) from e
        if "ORGANIZER_LIBRARY" in os.environ:
            data["library"] = os.environ["ORGANIZER_LIBRARY"]
        _merge(data, overrides or {})
        try:
            settings = cls.model_validate(data)
        except ValidationError as e:
            raise BadArgumentError(describe(e, None, "given on the command line or in the environment")) from e
        settings._file = path
        return settings

    _file: Path | None = PrivateAttr(default=None)

    @property
    def file(self) -> Path:
        """The settings file these settings were read from (and are saved to)."""
        return self._file or user_settings_file()

    def save_changes(self, changes: dict[str, Any], user_file: Path | None = None) -> Path:
        """Write ``changes`` (nested, as in the file) into the settings file in use, keeping whatever else
        the file holds: only what the user changed is saved, never values that came from flags or the
        environment. Written atomically (a temporary file, then a rename)."""
        path = user_file or self.file
        data = read_file(path)
        _merge(data, changes)
        try:
            Settings.model_validate(data)
        except ValidationError as e:
            raise BadArgumentError(describe(e, path)) from e
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(data, indent=2))
        return path


def read_file(path: Path) -> dict[str, Any]:
    """A settings file's contents: {} when there is none; one clear error when it cannot be used."""
    if not path.exists():
        return {}
    if path.is_dir():
        raise BadArgumentError(f"Settings file {path} is a folder")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BadArgumentError(f"Cannot read settings file {path}: {e.strerror or e}") from e
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise BadArgumentError(f"Settings file {path} is not UTF-8 text (byte {e.start})") from e
    except json.JSONDecodeError as e:
        raise BadArgumentError(f"Settings file {path} is not valid JSON: {e.msg} at line {e.lineno}, "
                               f"column {e.colno}") from e
    if not isinstance(data, dict):
        raise BadArgumentError(f"Settings file {path} must hold a JSON object ({{...}}), not "
                               f"{'null' if data is None else type(data).__name__}")
    return data


def describe(e: ValidationError, path: Path | None = None, where: str | None = None) -> str:
    """One line per bad key: where it is, what is allowed; no links."""
    lines = []
    for err in e.errors(include_url=False):
        key = ".".join(str(x) for x in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown setting"
        given = err.get("input")
        shown = "" if isinstance(given, dict | list) or err["type"] in ("extra_forbidden", "missing") else (
            f" (got {given!r})")
        lines.append(f"  {key}: {msg}{shown}")
    place = f" in {path}" if path is not None else (f" {where}" if where else "")
    return f"Invalid settings{place}:\n" + "\n".join(lines)


def check_value(section: type[BaseModel], name: str, value: Any, flag: str) -> Any:
    """``value`` for the setting ``name`` of ``section`` as a flag gives it for one call, checked against the
    setting's own bounds (one place for them); a BadArgumentError naming the flag when it is out of them."""
    try:
        section.model_validate({name: value})
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        raise BadArgumentError(f"{flag}: {err['msg'].lower()} (got {value!r})") from e
    return value


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if value is None:
            continue
        if isinstance(value, dict) and key != "weights" and key != "calibration":
            if not isinstance(base.get(key), dict):
                base[key] = {}
            _merge(base[key], value)
        else:
            base[key] = value


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One setting as the model declares it, for the shells that build their forms and flags from it."""

    path: str  # "clusters.eps"
    type: type  # int, float, str or bool (Path and other types: str)
    default: Any
    choices: tuple[str, ...] | None  # a Literal's values
    lo: float | None  # lower bound, open (>) where ``lo_open``
    hi: float | None
    lo_open: bool
    hi_open: bool
    description: str

    def bounds(self) -> str:
        """The allowed range in words: "0 < x <= 2", "at least 1", "" (none)."""
        def num(v: float) -> str:
            return f"{int(v):,}" if v.is_integer() else f"{v:g}"

        if self.lo is not None and self.hi is not None:
            return f"{num(self.lo)} {'<' if self.lo_open else '<='} x {'<' if self.hi_open else '<='} {num(self.hi)}"
        if self.lo is not None:
            return f"{'more than' if self.lo_open else 'at least'} {num(self.lo)}"
        if self.hi is not None:
            return f"{'less than' if self.hi_open else 'at most'} {num(self.hi)}"
        return ""


def field_spec(path: str, model: type[BaseModel] = Settings) -> FieldSpec:
    """The declaration of the setting at ``path`` ("section.name"): type, default, choices, bounds, description."""
    *sections, name = path.split(".")
    for section in sections:
        annotation = model.model_fields[section].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel), path
        model = annotation
    field = model.model_fields[name]
    lo = hi = None
    lo_open = hi_open = False
    for m in field.metadata:
        if isinstance(m, annotated_types.Ge):
            lo = float(m.ge)  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Gt):
            lo, lo_open = float(m.gt), True  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Le):
            hi = float(m.le)  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Lt):
            hi, hi_open = float(m.lt), True  # type: ignore[arg-type]
    annotation = field.annotation
    choices = tuple(str(c) for c in get_args(annotation)) if get_origin(annotation) is Literal else None
    kinds: tuple[type, ...] = (bool, int, float)
    kind = kinds[kinds.index(annotation)] if annotation in kinds else str
    return FieldSpec(path, kind, field.get_default(call_default_factory=True), choices, lo, hi, lo_open, hi_open,
                     field.description or field.title or "")
