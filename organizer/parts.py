"""The vocabulary of part types: the whole photo, OCR text and the twelve COCO super-categories."""

from __future__ import annotations

from enum import StrEnum

Box = tuple[float, float, float, float]  # a part's place: fractions of the upright photo, x0, y0, x1, y1


class PartType(StrEnum):
    WHOLE = "whole"
    TEXT = "text"
    PERSON = "person"
    VEHICLE = "vehicle"
    OUTDOOR = "outdoor"
    ANIMAL = "animal"
    ACCESSORY = "accessory"
    SPORTS = "sports"
    KITCHEN = "kitchen"
    FOOD = "food"
    FURNITURE = "furniture"
    ELECTRONIC = "electronic"
    APPLIANCE = "appliance"
    INDOOR = "indoor"
    FRAME = "frame"  # a frame of a video (at a time in the clip), embedded whole like the poster frame


class Modality(StrEnum):
    IMAGE = "image"
    TEXT = "text"


# A face: a part of its own kind, outside the search vocabulary above. Its descriptor lives in the face
# model's vector space (modality "face"), never in CLIP's, so no CLIP search or weight ever sees it.
FACE = "face"
FACE_MODALITY = "face"


PART_TYPES: tuple[str, ...] = tuple(p.value for p in PartType)

# COCO 2017 categories by super-category, as in the COCO annotation files. Detector class
# names come from the weights' own metadata; they are folded into these groups by name.
_SUPER: dict[PartType, tuple[str, ...]] = {
    PartType.PERSON: ("person",),
    PartType.VEHICLE: ("bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"),
    PartType.OUTDOOR: ("traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "street sign"),
    PartType.ANIMAL: ("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"),
    PartType.ACCESSORY: ("backpack", "umbrella", "handbag", "tie", "suitcase", "hat", "shoe", "eye glasses"),
    PartType.SPORTS: (
        "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove",
        "skateboard", "surfboard", "tennis racket",
    ),
    PartType.KITCHEN: ("bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "plate"),
    PartType.FOOD: ("banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake"),
    PartType.FURNITURE: ("chair", "couch", "potted plant", "bed", "dining table", "toilet", "mirror", "window",
                         "desk", "door"),
    PartType.ELECTRONIC: ("tv", "laptop", "mouse", "remote", "keyboard", "cell phone"),
    PartType.APPLIANCE: ("microwave", "oven", "toaster", "sink", "refrigerator", "blender"),
    PartType.INDOOR: ("book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush", "hair brush"),
}
_ALIASES = {"motorbike": "motorcycle", "aeroplane": "airplane", "sofa": "couch", "tvmonitor": "tv",
            "diningtable": "dining table", "pottedplant": "potted plant", "hair dryer": "hair drier",
            "cellphone": "cell phone", "mobile phone": "cell phone"}
COCO_TO_SUPER: dict[str, PartType] = {name: sup for sup, names in _SUPER.items() for name in names}


def super_category(class_name: str) -> PartType | None:
    """The super-category of a detector class name, or None for background and unknown names."""
    name = class_name.strip().lower().replace("_", " ")
    name = _ALIASES.get(name, name)
    return COCO_TO_SUPER.get(name)


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1), in any one unit."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
