"""The command line: parses, calls the core, prints text or --json. Knows no Qt.

parser.py builds the argument tree and the settings it overrides; app.py runs a command and turns errors into
one line and an exit code; output.py holds the shared output (progress bars, questions); commands/ holds one
module per command group."""

from organizer.cli.app import gui_main, main

__all__ = ["gui_main", "main"]
