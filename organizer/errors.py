"""Typed exceptions of the core. Only the CLI and the GUI turn them into messages."""

from __future__ import annotations


class OrganizerError(Exception):
    """Base class: an error with a message meant for the user."""


class ModelUnavailableError(OrganizerError):
    """A model's weights could not be found or loaded."""

    def __init__(self, role: str, spec: str, looked: str, cause: str = "") -> None:
        self.role = role
        self.spec = spec
        self.looked = looked
        self.cause = cause
        msg = f"Could not load the {role} model '{spec}'. Looked in: {looked}." + (f" Reason: {cause}." if cause else "")
        super().__init__(msg)


class LibraryError(OrganizerError):
    """The library folder or database cannot be used.

    ``kind`` says what happened, for the shell to phrase its advice: "full" (no space left), "read-only",
    "busy" (another program holds it), "damaged" (``backup`` is then the newest backup, if any),
    "folder" (cannot be created or opened), "other".
    """

    def __init__(self, message: str, kind: str = "other", backup: object | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.backup = backup


class BadArgumentError(OrganizerError):
    """A user-supplied value is invalid (weights, paths, thresholds)."""
