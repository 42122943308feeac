"""The OpenGL map needs a real display: run the window under Xvfb in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (Debian package xvfb)")
def test_opengl_map_hover_click_select(tmp_path: Path, tiny_models: Path, photo_dir: Path) -> None:
    pytest.importorskip("pyqtgraph.opengl")
    shot = tmp_path / "map.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "ORGANIZER_SETTINGS": str(tmp_path / "none.json")}
    proc = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable, "-m", "tests.gl_check",
         str(tmp_path / "lib"), str(tiny_models), str(photo_dir), str(shot)],
        capture_output=True, text=True, timeout=300, env=env, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "GL OK" in proc.stdout and shot.stat().st_size > 10_000
