"""What the commands share for output: one line on stderr, progress bars, questions."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from organizer.errors import BadArgumentError, OrganizerError
from organizer.wording import phase_name

CONFIRM_OVER = 5  # forgetting more photos than this asks first


def say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr)


def advice(e: OrganizerError) -> str:
    """The core's message with what to do about it, in the command line's words."""
    from organizer.wording import with_remedy

    return with_remedy(e, "cli")


def confirm(args: argparse.Namespace, photos: int, what: str) -> None:
    """Ask before more than a few photos go; without a terminal (or with --json) --yes must say so."""
    if photos <= CONFIRM_OVER:
        return
    ask(args, what, "Nothing was forgotten.")


def ask(args: argparse.Namespace, what: str, refused: str) -> None:
    """Go on only when the user says yes (or gave --yes); without a terminal (or with --json) --yes must."""
    if args.yes:
        return
    if args.json or not sys.stdin.isatty():
        raise BadArgumentError(f"{what} Add --yes to do it without a question.")
    try:
        answer = input(f"{what} Go on? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise BadArgumentError(refused)


PHASE_UNITS = {"scan": " files", "whole": " photos", "parts": " photos", "landmarks": " photos", "faces": " photos", "frames": " videos", "rehash": " files",
               "download": "B",
               "landmark-head": " prompts"}


def drive(events: Any, args: argparse.Namespace, want: type, other: Any = None, show: bool | None = None,
           postfix: bool = True) -> Any:
    """Run a core generator with one progress bar per phase on stderr; return its last event of type
    ``want``. Other events go to ``other``."""
    from tqdm import tqdm

    from organizer.progress import Progress

    show = not args.json if show is None else show
    bar = None
    result = None
    try:
        for ev in events:
            if isinstance(ev, Progress):
                if not show:
                    continue
                if bar is None or bar.phase != ev.phase:
                    if bar is not None:
                        bar.close()
                    bar = tqdm(total=ev.total or None, desc=phase_name(ev.phase),
                               unit=PHASE_UNITS.get(ev.phase, "it"), unit_scale=ev.phase == "download",
                               file=sys.stderr, dynamic_ncols=True, mininterval=0.25)
                    bar.phase = ev.phase
                bar.total = ev.total or None
                if postfix and ev.path:
                    bar.set_postfix_str(ev.path)
                bar.update(ev.done - bar.n)
            elif isinstance(ev, want):
                result = ev
            elif other is not None:
                other(ev)
    finally:
        if bar is not None:
            bar.close()
    return result
