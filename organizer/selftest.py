"""`organizer self-test`: start, open a library, index a small folder with the offline test models,
search, open the window offscreen, exit 0. Used to check a frozen build headless."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def run(window: bool = True) -> int:
    from PIL import Image, ImageDraw

    from organizer.library import Library
    from organizer.models.offline import make_offline_test_set
    from organizer.progress import Summary
    from organizer.resources import resources_dir
    from organizer.search.engine import SearchQuery
    from organizer.settings import Settings

    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="organizer-self-test-"))
    try:
        print(f"resources: {resources_dir()}")
        models = work / "models"
        # CLIP and the detector as ONNX folders: the installation's own run time, torch or not (the frozen app's
        # transformers failed at import for a data file PyInstaller missed, and the light install has none)
        made = make_offline_test_set(models, onnx=True)
        photos = work / "photos"
        photos.mkdir()
        for i, colour in enumerate(((200, 30, 30), (30, 160, 60), (40, 60, 200))):
            im = Image.new("RGB", (320, 240), colour)
            ImageDraw.Draw(im).rectangle((40 + 20 * i, 40, 200, 180), fill=(240, 240, 240))
            im.save(photos / f"photo{i}.jpg", quality=90)
        (photos / "broken.jpg").write_bytes(b"not an image")
        # a camera RAW: LibRaw (rawpy's shared library) and exifread must be in the bundle
        import numpy as np

        from organizer.media.dng import write_dng

        mosaic = np.zeros((240, 320, 3), np.uint8)
        mosaic[:, :160] = (200, 40, 40)
        write_dng(photos / "raw.dng", mosaic, preview=np.full((480, 640, 3), 90, np.uint8))
        # a video: OpenCV's FFmpeg must be in the bundle
        from organizer.media.mp4 import write_video

        write_video(photos / "clip.mp4", 12, lambda t: mosaic)
        settings = Settings.load({"library": str(work / "lib"), "models": {"dir": str(models)},
                                  "ocr": {"enabled": made["ocr"] is not None}},
                                 user_file=work / "settings.json")
        lib = Library(settings)
        summary = [e for e in lib.index([str(photos)]) if isinstance(e, Summary)][0]
        assert summary.new == 5 and summary.skipped == 1, summary
        results = lib.search(SearchQuery(text="a red photo", top_k=5, threshold=-10.0))
        assert len(results) == 5, results
        print(f"indexed {summary.new} items, a DNG and a video among them (1 skipped), search returned {len(results)}")
        if window:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            from organizer.gui.app import gallery_rows_offscreen

            rows = gallery_rows_offscreen(lib)
            assert rows == 5, rows
            print(f"window opened with {rows} photos")
        lib.close()
        print(f"self-test passed in {time.perf_counter() - t0:.1f} s")
        return 0
    except Exception as e:  # noqa: BLE001 - the self-test reports, never hides
        print(f"self-test FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
