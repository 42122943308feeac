"""Start-up at 10k photos (30k vectors): a cold `organizer search` (a new process each time, as a user
runs it) and a fresh process drawing the window, then quitting. Where the time goes: each phase of a
cold search measured in its own fresh process (imports, opening the library, loading the index, the
query's text embedding, ranking).

    ./dev bench startup            # under Xvfb where DISPLAY is set, else offscreen
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import DATA, cpu_line, models_dir

ROOT = Path(__file__).resolve().parents[1]
N = 10_000


def library(models: Path) -> Path:
    """A library of ``N`` photos, each with a whole-photo vector and two parts, in the full CLIP's space."""
    from organizer.library import Library
    from organizer.settings import Settings
    from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo

    folder = DATA / f"lib-{N // 1000}k"
    settings = Settings.load({"library": str(folder), "models": {"dir": str(models)}})
    done = folder / ".complete"
    if done.exists() and done.read_text() == Library(settings, read_only=True).models.clip.key:
        return folder
    shutil.rmtree(folder, ignore_errors=True)  # built for another CLIP: its vectors would not be searched
    lib = Library(settings)
    key = lib.models.clip.key
    rng = np.random.default_rng(0)

    def unit(n: int) -> np.ndarray:
        v = rng.standard_normal((n, 512)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    for start in range(0, N, 500):
        vecs = unit(500)
        photos = [NewPhoto(FileRef(f"/photos/{start + i:05}.jpg", 1, 1), PhotoInfo(f"h{start + i}", 1, "JPEG", 8, 8),
                           NewPart("whole", vecs[i], "image")) for i in range(500)]
        ids = lib.store.add_photos(photos, key)
        parts = unit(1000)
        for j, pid in enumerate(ids):
            lib.store.replace_parts(pid, [NewPart("person", parts[2 * j], "image", (0.1, 0.1, 0.5, 0.9)),
                                          NewPart("vehicle", parts[2 * j + 1], "image", (0.5, 0.5, 0.9, 0.9))],
                                    key, "bench")
    lib.close()
    done.write_text(key)
    return folder


PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
from organizer.library import Library
from organizer.search.engine import SearchQuery
from organizer.settings import Settings
t1 = time.perf_counter()
lib = Library(Settings.load({"library": sys.argv[1], "models": {"dir": sys.argv[2]}}), read_only=True)
t2 = time.perf_counter()
lib.searcher.index.sync()
t3 = time.perf_counter()
lib.models.clip.embed_texts(["warm"])
t4 = time.perf_counter()
lib.search(SearchQuery(text="a red car in front of a hotel", top_k=5))
t5 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "open library": t2 - t1, "load index": t3 - t2, "text model": t4 - t3,
                  "query": t5 - t4, "torch imported": "torch" in sys.modules}))
"""

WINDOW = r"""
import json, sys, time
start = float(sys.argv[3])
from PySide6.QtWidgets import QApplication
from organizer.gui.window import MainWindow
from organizer.library import Library
from organizer.settings import Settings
app = QApplication([])
w = MainWindow(Library(Settings.load({"library": sys.argv[1], "models": {"dir": sys.argv[2]}})))
w.ask_on_close = lambda: True
w.show()
app.processEvents()
shown = time.time() - start
t = time.perf_counter()
w.close()
app.processEvents()
closed = time.perf_counter() - t
w.wait_for_background()  # as the app does once the window is gone: a cancelled step ends
print(json.dumps({"shown": shown, "quit": closed}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(cpu_line())
    models = models_dir()
    lib = library(models)
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM") or
           ("xcb" if os.environ.get("DISPLAY") else "offscreen")}
    # An installed app starts from compiled bytecode; an editable install under PYTHONDONTWRITEBYTECODE (as on
    # this project's machines) never writes it, and every start compiled organizer's sources again (0.2 s).
    import compileall

    compileall.compile_dir(str(ROOT / "organizer"), quiet=1)
    print(f"organizer's bytecode compiled first (PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r} "
          "here); an installed app has it")
    organizer = [sys.executable, "-m", "organizer"]
    base = ["--library", str(lib), "--models", str(models)]
    subprocess.run([*organizer, "search", "warm up the caches", "--top", "1", *base], env=env, check=True,
                   capture_output=True, cwd=ROOT)
    cold = []
    for _ in range(args.runs):
        t = time.perf_counter()
        subprocess.run([*organizer, "search", "a red car in front of a hotel", "--top", "5", *base], env=env,
                       check=True, capture_output=True, cwd=ROOT)
        cold.append(time.perf_counter() - t)
    print(f"{N:,} photos ({3 * N:,} vectors); cold `organizer search`: p50 {np.median(cold):.2f} s "
          f"(min {min(cold):.2f}, max {max(cold):.2f}; target under 2 s)")
    plain = []
    for _ in range(args.runs):  # the plain path: torch and transformers load the whole CLIP for the query
        t = time.perf_counter()
        subprocess.run([*organizer, "search", "a red car in front of a hotel", "--top", "5", "--backend", "torch",
                        *base], env=env, check=True, capture_output=True, cwd=ROOT)
        plain.append(time.perf_counter() - t)
    print(f"  plain path (--backend torch, the whole CLIP loaded): p50 {np.median(plain):.2f} s, "
          f"{np.median(plain) / np.median(cold):.1f}x the time")
    phases = [json.loads(subprocess.run([sys.executable, "-c", PHASES, str(lib), str(models)], env=env, check=True,
                                        capture_output=True, text=True, cwd=ROOT).stdout.strip().splitlines()[-1])
              for _ in range(3)]
    for k in phases[0]:
        if k == "torch imported":
            print(f"  torch imported: {phases[0][k]}")
        else:
            print(f"  {k:13} {np.median([p[k] for p in phases]):.2f} s")
    shown, quit_ = [], []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", WINDOW, str(lib), str(models), str(time.time())], env=env,
                             check=True, capture_output=True, text=True, cwd=ROOT).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        shown.append(r["shown"])
        quit_.append(r["quit"])
    print(f"window ({env['QT_QPA_PLATFORM']}): drawn {np.median(shown):.2f} s after the process started "
          f"(p50; target under 1.5 s), quit in {np.median(quit_):.2f} s (target under 1 s)")


if __name__ == "__main__":
    main()
