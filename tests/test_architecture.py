"""The core knows no Qt: checked on the source and in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "organizer"
QT = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "qtpy")


def test_no_qt_import_outside_gui() -> None:
    offenders = []
    for f in ROOT.rglob("*.py"):
        if "gui" in f.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(f.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{f}: {n}" for n in names if n.split(".")[0] in QT]
    assert offenders == []


def test_core_modules_load_without_qt_or_heavy_libraries() -> None:
    code = (
        "import sys; import organizer.library, organizer.cli, organizer.settings; "
        "bad = [m for m in ('PySide6','PyQt5','PyQt6','torch','transformers','easyocr') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _is_library(node: ast.expr) -> bool:
    """``lib``, ``library`` or ``self.lib``: how the shells name their Library."""
    return (isinstance(node, ast.Name) and node.id in ("lib", "library")) or (
        isinstance(node, ast.Attribute) and node.attr in ("lib", "_lib", "library"))


def test_the_shells_never_reach_past_library() -> None:
    """The CLI and the window call the core through Library's own methods: never its store, and never through
    its models, its searcher, its labels or its people (``lib.models.clip.load()``: Library.load_search_model is
    the door; ``lib.labels.rename(...)``: Library.rename_label, which also journals it for undo)."""
    offenders = []
    for f in [*(ROOT / "cli").rglob("*.py"), ROOT / "selftest.py", *(ROOT / "gui").rglob("*.py")]:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Attribute) and (node.attr == "store" or (
                    node.attr in ("models", "searcher", "labels", "people") and _is_library(node.value))):
                offenders.append(f"{f.name}:{node.lineno}: .{node.attr}")
    assert offenders == []
