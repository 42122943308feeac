"""The default models for an install without torch: published ONNX packs, downloaded on first use from a local
HTTP server here, resumed after a cut, refused when a file does not match its manifest."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from organizer.errors import ModelUnavailableError
from organizer.models import packs
from organizer.models.onnx_folders import make_tiny_onnx_clip, make_tiny_onnx_detector
from tests.test_light import BLOCKED, _run

CLIP, DETECTOR = "example/tiny-clip", "tiny_detector"


class Server:
    """Serves a folder with HTTP Range requests; can cut a file's first response after some bytes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cut: dict[str, int] = {}  # asset -> bytes sent before the connection drops (once)
        self.ranges: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                name = self.path.lstrip("/")
                path = server.root / name
                rng = self.headers.get("Range")
                server.ranges.append((name, rng))
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                body = data[start:]
                cut = server.cut.pop(name, None)
                self.wfile.write(body[:cut] if cut is not None else body)
                if cut is not None:
                    self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture()
def published(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    """Tiny ONNX models published as packs (as the release workflow does with the real ones) and served."""
    models = tmp_path / "exported"
    make_tiny_onnx_clip(models / "clip")
    make_tiny_onnx_detector(models / "detector")
    meta = json.loads((models / "clip" / "organizer.json").read_text())
    (models / "clip" / "organizer.json").write_text(json.dumps({**meta, "space": CLIP}))
    cfg = json.loads((models / "detector" / "config.json").read_text())
    (models / "detector" / "config.json").write_text(json.dumps({**cfg, "key": DETECTOR}))
    from organizer.cli import main

    assert main(["models", "pack", str(models), str(tmp_path / "www"), "--revision", "test-1"]) == 0
    server = Server(tmp_path / "www")
    yield server, tmp_path
    server.httpd.shutdown()


def test_a_pack_is_downloaded_checked_and_resumed_after_a_cut(published, monkeypatch) -> None:
    server, tmp = published
    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp / "cache"))
    manifest = json.loads((tmp / "www" / f"{packs.pack_name('clip', CLIP)}.manifest.json").read_text())
    assert manifest["revision"] == "test-1" and {f["path"] for f in manifest["files"]} >= {"image.onnx", "text.onnx",
                                                                                         "tokenizer.json"}
    image = next(f for f in manifest["files"] if f["path"] == "image.onnx")
    server.cut[image["asset"]] = 10_000  # the connection drops after 10 kB of the image tower
    with pytest.raises(ModelUnavailableError, match="run the command again to resume it"):
        list(packs.fetch("clip", CLIP, server.url))
    assert packs.installed("clip", CLIP) is None  # half a pack is not used
    folder = packs.packs_dir() / packs.pack_name("clip", CLIP)
    assert (folder / "image.onnx.part").stat().st_size == 10_000
    server.ranges.clear()
    events = list(packs.fetch("clip", CLIP, server.url))
    assert (image["asset"], "bytes=10000-") in server.ranges  # resumed where it stopped, not from the start
    assert not any(name.endswith("--image.json") for name, _ in server.ranges)  # a file already whole: not again
    assert packs.installed("clip", CLIP) == folder
    assert (folder / "image.onnx").read_bytes() == (tmp / "exported" / "clip" / "image.onnx").read_bytes()
    assert events[-1].done == events[-1].total == sum(f["size"] for f in manifest["files"])


def test_a_file_that_does_not_match_its_manifest_is_refused_and_fetched_anew(published, monkeypatch) -> None:
    server, tmp = published
    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp / "cache"))
    manifest = json.loads((tmp / "www" / f"{packs.pack_name('clip', CLIP)}.manifest.json").read_text())
    asset = tmp / "www" / next(f["asset"] for f in manifest["files"] if f["path"] == "text.onnx")
    good = asset.read_bytes()
    asset.write_bytes(bytes([good[0] ^ 1]) + good[1:])  # one bit off, the same size
    with pytest.raises(ModelUnavailableError, match="damaged"):
        list(packs.fetch("clip", CLIP, server.url))
    folder = packs.packs_dir() / packs.pack_name("clip", CLIP)
    assert packs.installed("clip", CLIP) is None and not (folder / "text.onnx").exists()
    assert not list(folder.glob("*.part"))  # nothing kept to resume a wrong file from
    asset.write_bytes(good)
    list(packs.fetch("clip", CLIP, server.url))
    assert packs.installed("clip", CLIP) == folder
    (folder / "image.onnx").write_bytes(b"short")  # a file damaged on disk afterwards: the pack is not used
    assert packs.installed("clip", CLIP) is None


def test_a_model_with_no_published_pack_says_what_to_do(published, monkeypatch) -> None:
    server, tmp = published
    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp / "cache"))
    with pytest.raises(ModelUnavailableError, match=r"organizer\[train\]"):
        list(packs.fetch("clip", "someone/other-clip", server.url))
    with pytest.raises(ModelUnavailableError, match="offline"):
        list(packs.fetch("clip", CLIP, "http://127.0.0.1:9"))  # nothing listens: offline


def test_a_manifest_cannot_write_outside_its_folder(published, monkeypatch) -> None:
    server, tmp = published
    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp / "cache"))
    path = tmp / "www" / f"{packs.pack_name('clip', CLIP)}.manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"][0]["path"] = "../../escaped.onnx"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelUnavailableError, match="outside"):
        list(packs.fetch("clip", CLIP, server.url))
    assert not list(tmp.rglob("escaped.onnx"))


def test_without_torch_the_first_index_downloads_the_default_models_and_runs_on_them(published, photo_dir,
                                                                                     monkeypatch) -> None:
    """The light install's first run: CLIP and the detector are not here, torch is not importable; `index`
    downloads both packs (checked), indexes every pass on them, and search and status need nothing more."""
    server, tmp = published
    settings = tmp / "settings.json"
    settings.write_text(json.dumps({"models": {"download_url": server.url, "clip": CLIP, "detector": DETECTOR}}))
    env = {"ORGANIZER_CACHE": str(tmp / "cache"), "ORGANIZER_SETTINGS": str(settings)}
    lib = ["--library", str(tmp / "lib")]
    code, out, report = _run(BLOCKED, "index", str(photo_dir), *lib, env=env)
    assert code == 0 and report.get("heavy") == [], out[-2000:]
    assert "4 new photos" in out and "Parts pass: 4 photos" in out, out[-2000:]
    monkeypatch.setenv("ORGANIZER_CACHE", str(tmp / "cache"))
    assert packs.installed("clip", CLIP) and packs.installed("detector", DETECTOR)
    requests = len(server.ranges)
    code, out, report = _run(BLOCKED, "search", "a cup of coffee", "--json", "--threshold", "-10", *lib, env=env)
    assert code == 0 and report.get("heavy") == [] and len(_json(out)["results"]) == 4, out
    code, out, report = _run(BLOCKED, "status", "--json", *lib, env=env)
    assert code == 0 and _json(out)["photos"] == 4, out
    assert len(server.ranges) == requests  # downloaded once


def _json(out: str) -> dict:
    return json.JSONDecoder().raw_decode(out.lstrip())[0]
