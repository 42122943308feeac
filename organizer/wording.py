"""The words the shells (command line and window) share: phase names, the index summary, skipped-file
lines, and the remedy each shell offers for an error (the core says what happened, never which flag or
page to use). No Qt here, no printing: the shells decide where the words go."""

from __future__ import annotations

from datetime import datetime

from organizer.errors import LibraryError, ModelUnavailableError, OrganizerError
from organizer.paths import display
from organizer.progress import Summary

PHASES = {
    "scan": "Scanning", "whole": "Pass 1 of 2: whole photos", "parts": "Pass 2 of 2: objects and text",
    "faces": "Faces", "frames": "Video frames", "rehash": "Fingerprinting RAWs and videos again (once, after an upgrade)",
    "landmarks": "Landmarks", "clusters": "Clustering", "projection": "Projecting", "embed": "Embedding",
    "train": "Training", "decode": "Decoding", "finetune": "Fine-tuning", "download": "Downloading models (first use)",
    "waiting": "Waiting for another organizer to finish indexing",
    "landmark-head": "Preparing landmark recognition (once per CLIP model)",
    "models": "Loading models",
}


def phase_name(phase: str) -> str:
    return PHASES.get(phase, phase.capitalize())


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def clip_time(seconds: float) -> str:
    """A time in a video as players show it: "0:07", "1:02:03"."""
    s = int(round(seconds))
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


def skip_line(path: str, reason: str, detail: str = "") -> str:
    """A skipped file as one line: where, why, and the decoder's own words."""
    return f"{display(path)}: {reason}" + (f" ({display(detail)})" if detail else "")


def index_summary(s: Summary) -> list[str]:
    """What an index run did, first line the counts; the rest only where something happened."""
    lines = [f"{plural(s.scanned, 'file')} scanned: {plural(s.new, 'new photo')}, "
             f"{s.linked} moved/copied/duplicate files linked, {s.unchanged} unchanged, {s.skipped} skipped, "
             f"{s.removed_paths} moved away, {s.missing_paths} missing (kept; `organizer status` lists them)."]
    if s.paired:
        lines.append(f"{plural(s.paired, 'RAW file or motion clip', 'RAW files or motion clips')} kept with the "
                     "still of the same shot (one photo, both files).")
    if s.frames_found:
        lines.append(f"Videos: {plural(s.frames_found, 'frame')} embedded besides their poster frames.")
    if s.restored:
        lines.append(f"{plural(s.restored, 'missing file')} found again.")
    lines += [f"Offline: {display(r)} (its photos are kept and shown as missing)." for r in s.offline]
    if s.failed:
        lines.append(f"{plural(s.failed, 'photo')} could not be read again for a pass (kept; retried when their "
                     "file changes).")
    if s.reembedded:
        lines.append(f"{plural(s.reembedded, 'photo')} re-embedded with the current CLIP model.")
    if s.landmarks:
        lines.append(f"{plural(s.landmarks, 'photo')} show a landmark.")
    if s.parts_done:
        lines.append(f"Parts pass: {plural(s.parts_done, 'photo')}, {plural(s.parts_found, 'object')}, "
                     f"{plural(s.text_found, 'text region')} (OCR ran on {s.ocr_run}).")
    if s.faces_done:
        lines.append(f"Faces pass: {plural(s.faces_done, 'photo')}, {plural(s.faces_found, 'face')} "
                     "(`organizer people` groups them).")
    return lines


_MODEL_FLAGS = {
    "clip": "--clip-model DIR (a folder saved by transformers' save_pretrained)",
    "detector": "--detector-model DIR (a folder holding model.safetensors and config.json)",
    "ocr": "--ocr-model DIR (a folder holding craft_mlt_25k.pth and english_g2.pth)",
    "face": "--face-model DIR (a folder holding shape_predictor_5_face_landmarks.dat and "
            "dlib_face_recognition_resnet_model_v1.dat)",
}


def remedy(e: OrganizerError, shell: str) -> str:
    """What to do about ``e``, in the words of ``shell`` ("cli" or "window"); "" when the message says it all."""
    cli = shell == "cli"
    if isinstance(e, ModelUnavailableError):
        if cli:
            flag = _MODEL_FLAGS.get(e.role, f"--{e.role}-model DIR")
            return (f"Point organizer at local files with {flag}, or with --models DIR holding a '{e.role}/' "
                    "subfolder (`organizer models make-offline-test-set DIR` writes tiny test models in that layout).")
        return (f"Choose a local {e.role} model on the Settings page (a models folder with a '{e.role}/' subfolder, "
                "or the model's own folder), then restart.")
    if isinstance(e, LibraryError):
        return {
            "full": "Free some space and try again.",
            "read-only": ("Use a library folder you can write to (--library DIR), or make this one writable." if cli
                          else "Choose a library folder you can write to on the Settings page, or make this one "
                          "writable."),
            "busy": "Wait for the other organizer to finish, or close it, then try again.",
            "damaged": ("Bring back a backup with `organizer restore` (`organizer restore --list` shows them)."
                        if e.backup else "Run `organizer check` for details."),
        }.get(e.kind, "")
    return ""


def with_remedy(e: OrganizerError, shell: str) -> str:
    text = "\n".join(display(line) for line in str(e).split("\n"))  # a message may hold several lines
    return f"{text} {remedy(e, shell)}".strip()


def date_words(taken_at: str | None, part: str = "time", none: str = "No date") -> str:
    """A date taken (ISO 8601) in words, down to ``part``: "month" ("July 2018"), "day" ("Saturday 14 July
    2018") or "time" ("Saturday 14 July 2018, 16:05", the time left out at midnight exactly); ``none`` where
    there is no date or it cannot be read."""
    if not taken_at:
        return none
    try:
        t = datetime.fromisoformat(taken_at)
    except ValueError:
        return none
    if part == "month":
        return f"{t:%B %Y}"
    words = f"{t:%A} {t.day} {t:%B %Y}"
    if part == "time" and (t.hour, t.minute, t.second) != (0, 0, 0):
        words += f", {t:%H:%M}"
    return words
