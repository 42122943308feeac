"""Scrolling the gallery of a 100k-photo library: frames per second while scrolling page by page.

The model holds 100,000 rows (the real PhotoListModel and Gallery view); thumbnails come from the
real background loader and disk cache, made from 50 sample photos that the rows cycle through.
Run under Xvfb for a real display (`xvfb-run -a ./dev bench gallery_fps`) or offscreen.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from common import cpu_line, photos_12mp

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args()
    from PySide6.QtWidgets import QApplication

    from organizer.gui.models import Row
    from organizer.gui.pages.gallery import Gallery
    from organizer.gui.thumbnails import Thumbnails

    print(cpu_line(), "| Qt platform:", os.environ["QT_QPA_PLATFORM"])
    files = sorted(photos_12mp(12).glob("*.jpg"))
    app = QApplication(sys.argv[:1])
    thumbs = Thumbnails(Path(tempfile.mkdtemp(prefix="gallery-bench-")))
    view = Gallery(thumbs)
    view.resize(1280, 800)
    view.show()
    t = time.perf_counter()
    view.set_rows([Row(i, str(files[i % len(files)]), f"k{i % len(files):02d}") for i in range(args.n)])
    app.processEvents()
    print(f"{args.n:,} rows: model reset and first layout {time.perf_counter() - t:.2f} s")
    bar = view.verticalScrollBar()
    step = max(1, view.viewport().height() // 2)
    jump = max(1, bar.maximum() // args.frames)  # spread the frames over the whole library
    # warm the disk cache once, as a library that has been browsed before
    for _ in range(3):
        app.processEvents()
        thumbs.wait()
    t = time.perf_counter()
    frames = 0
    while frames < args.frames:
        bar.setValue((bar.value() + (step if frames % 2 else jump)) % max(1, bar.maximum()))
        view.viewport().repaint()
        app.processEvents()
        frames += 1
    el = time.perf_counter() - t
    print(f"scrolling (half a page, then a jump, frame after frame) through {args.n:,} photos: {frames / el:.0f} frames/s "
          f"({el / frames * 1000:.1f} ms a frame), scroll range {bar.maximum():,} px")
    thumbs.pool.clear()  # no thumbnail job may outlive the interpreter
    thumbs.wait()
    view.close()
    app.processEvents()


if __name__ == "__main__":
    main()
