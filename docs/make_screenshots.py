"""Screenshots of each page of the running window, for the README.

Run under Xvfb (the map needs OpenGL):
    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python docs/make_screenshots.py
It builds a sample library from scikit-image's sample photos and a rendered sign, indexed with the
offline test models (random weights: the rankings and cluster names shown mean nothing).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"


PLACES = [(48.8584, 2.2945), (48.8606, 2.3376), (38.7223, -9.1393), (38.7139, -9.1334), (35.6895, 139.6917),
          (40.7128, -74.0060), (-33.8568, 151.2153)]


def _dms(x: float) -> tuple[float, float, float]:
    d = int(x)
    m = int((x - d) * 60)
    return (float(d), float(m), round(((x - d) * 60 - m) * 60, 2))


def sample_folder(dest: Path) -> Path:
    from PIL import Image, ImageDraw, ImageFont
    from skimage import data

    trip = dest / "Pictures" / "Trip"
    (trip / "Paris 2019").mkdir(parents=True)
    names = ["astronaut", "coffee", "chelsea", "rocket", "camera", "cat", "coins", "hubble_deep_field",
             "immunohistochemistry", "motorcycle_left", "retina", "page", "horse", "moon", "text"]
    for i, n in enumerate(names):
        try:
            im = Image.fromarray(getattr(data, n)()).convert("RGB")
        except Exception:  # noqa: BLE001 - some samples need a download
            continue
        (trip / "Paris 2019" if i % 3 == 0 else trip).joinpath(f"{n}.jpg").parent.mkdir(exist_ok=True)
        exif = Image.Exif()
        if i < len(PLACES):  # a few photos carry GPS, for the Places page
            lat, lon = PLACES[i]
            gps = exif.get_ifd(0x8825)
            gps[1], gps[2] = ("N" if lat >= 0 else "S"), _dms(abs(lat))
            gps[3], gps[4] = ("E" if lon >= 0 else "W"), _dms(abs(lon))
        if i < 12:  # dates taken over a few days, for the timeline's day headers (the rest undated)
            exif.get_ifd(0x8769)[0x9003] = f"2019:07:{14 + i // 4:02d} {9 + i:02d}:15:00"
        im.save((trip / "Paris 2019" if i % 3 == 0 else trip) / f"{n}.jpg", quality=90, exif=exif)
    astronaut = Image.fromarray(data.astronaut())  # the same person in three photos: one group on People
    astronaut.crop((60, 0, 512, 452)).save(trip / "Paris 2019" / "eileen-crop.jpg", quality=90)
    astronaut.resize((400, 400)).rotate(5).save(trip / "eileen-small.jpg", quality=85)
    sign = Image.new("RGB", (900, 400), (250, 250, 245))
    ImageDraw.Draw(sign).text((60, 140), "CAFE ROMA", fill="black", font=ImageFont.load_default(size=110))
    sign.save(trip / "sign.jpg", quality=90)
    (trip / "notes.jpg").write_text("not a photo")
    # a video of the trip (the gallery marks it with its length) and a camera RAW
    import numpy as np

    from organizer.media.dng import write_dng
    from organizer.media.mp4 import write_video

    street = np.asarray(Image.fromarray(data.rocket()).convert("RGB").resize((320, 240)))
    write_video(trip / "launch.mp4", 42, lambda t: np.roll(street, int(t * 8), axis=1),
                created=datetime(2019, 7, 16, 8, 0, tzinfo=UTC))
    coffee = np.asarray(Image.fromarray(data.coffee()).convert("RGB").resize((640, 480)))
    write_dng(trip / "coffee-raw.dng", coffee, preview=coffee, taken="2019:07:15 08:30:00")
    return trip


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from organizer.gui.window import MainWindow
    from organizer.library import Library
    from organizer.models.offline import make_offline_test_set
    from organizer.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="organizer-shots-"))
    try:
        models = work / "models"
        make_offline_test_set(models)
        trip = sample_folder(work)
        app = QApplication([])
        s = Settings.load({"library": str(work / "lib"), "models": {"dir": str(models)},
                           "projection": {"max_iter": 500}}, user_file=work / "none.json")
        w = MainWindow(Library(s))
        w.ask_on_close = lambda: True
        w.resize(1280, 800)
        w.show()

        def pump(seconds: float = 0.5, until=None) -> None:
            t = time.time()
            while time.time() - t < (120 if until else seconds):
                app.processEvents()
                if until is not None and until():
                    break
                time.sleep(0.02)
            t = time.time()
            while time.time() - t < 0.3:
                app.processEvents()
                time.sleep(0.02)

        done: list = []
        w.indexing_finished.connect(done.append)
        w.add_paths([str(trip)])
        pump(until=lambda: done)
        w.thumbs.wait()
        pump(1.0)
        OUT.mkdir(parents=True, exist_ok=True)
        w.skipped_list.setVisible(True)
        w.grab().save(str(OUT / "library.png"))
        w.skipped_list.setVisible(False)
        got: list = []
        w.search_finished.connect(got.append)
        w.focus_search()
        w.search_page.box.setText("cafe")
        pump(until=lambda: got)
        w.thumbs.wait()
        pump(1.0)
        w.grab().save(str(OUT / "search.png"))
        fin: list = []
        w.task_finished.connect(fin.append)
        w.tabs.setCurrentWidget(w.clusters_page)
        pump(until=lambda: fin)
        w.thumbs.wait()
        pump(1.0)
        w.grab().save(str(OUT / "clusters.png"))
        fin.clear()
        w.tabs.setCurrentWidget(w.projection_page)
        pump(until=lambda: fin)
        pump(1.0)
        w.grab().save(str(OUT / "map.png"))
        first = next(p for p in w.lib.people.overview().people if p.name is None)  # numbered by its first face
        w.lib.people.name(str(first.number), "Eileen")
        w.tabs.setCurrentWidget(w.people_page)
        pump(until=lambda: not w.people_page.list.item(0).icon().isNull())
        w.thumbs.wait()
        pump(1.0)
        w.grab().save(str(OUT / "people.png"))
        w.tabs.setCurrentWidget(w.places_page)
        pump(0.5)
        view = w.places_page.map
        hit = max(view.recluster(), key=lambda c: len(c[1]))
        view.chosen.emit(hit[1])
        w.thumbs.wait()
        pump(1.0)
        w.grab().save(str(OUT / "places.png"))
        w.tabs.setCurrentWidget(w.landmarks_page)
        pump(0.5)
        w.grab().save(str(OUT / "landmarks.png"))
        w.tabs.setCurrentWidget(w.settings_page)
        pump(0.5)
        w.grab().save(str(OUT / "settings.png"))
        sign_id = next(r.photo_id for r in w.library_page.gallery.model_.rows if r.path.endswith("sign.jpg"))
        w.open_photo(sign_id, None)
        pump(1.0)
        w.grab().save(str(OUT / "photo.png"))
        w.close()
        print("wrote", sorted(p.name for p in OUT.glob("*.png")))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
