"""A run killed with SIGKILL mid-way resumes with nothing duplicated and nothing lost."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import noise_image

N = 120


def _count(db: Path, sql: str) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute(sql).fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _cli(tmp_path: Path, models: Path, *args: str) -> subprocess.Popen:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"embed": {"batch_size": 2, "workers": 1}, "ocr": {"enabled": False},
                                    "detection": {"score_threshold": 0.0, "max_parts": 2}}))
    cmd = [sys.executable, "-m", "organizer", "index", *args, "--library", str(tmp_path / "lib"),
           "--models", str(models), "--settings", str(settings), "--quiet"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})


def _wait_then_kill(proc: subprocess.Popen, db: Path, sql: str, at_least: int) -> int:
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        n = _count(db, sql)
        if n >= at_least:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return n
        time.sleep(0.01)
    raise AssertionError(f"the run ended before it could be killed: {proc.communicate()}")


def _check_consistent(db: Path) -> None:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # every photo has exactly one whole part, with exactly one vector
        assert con.execute("SELECT COUNT(*) FROM photos WHERE id NOT IN (SELECT photo_id FROM parts "
                           "WHERE type='whole')").fetchone()[0] == 0
        assert con.execute("SELECT MAX(c) FROM (SELECT COUNT(*) c FROM parts WHERE type='whole' "
                           "GROUP BY photo_id)").fetchone()[0] == 1
        assert con.execute("SELECT COUNT(*) FROM parts WHERE id NOT IN (SELECT part_id FROM embeddings)"
                           ).fetchone()[0] == 0
        # no photo without a path, no duplicate hashes
        assert con.execute("SELECT COUNT(*) FROM photos WHERE id NOT IN (SELECT photo_id FROM paths)").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(DISTINCT hash) FROM photos").fetchone()[0] == con.execute(
            "SELECT COUNT(*) FROM photos").fetchone()[0]
    finally:
        con.close()


def test_killed_run_resumes_consistent(tmp_path: Path, tiny_models: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(N):
        noise_image(i, (160, 120)).save(photos / f"p{i:03}.jpg", quality=85)
    db = tmp_path / "lib" / "library.sqlite3"

    # 1. kill during the first pass
    proc = _cli(tmp_path, tiny_models, str(photos))
    seen = _wait_then_kill(proc, db, "SELECT COUNT(*) FROM photos", 2)
    stored = _count(db, "SELECT COUNT(*) FROM photos")
    assert stored >= 2 and seen <= stored
    _check_consistent(db)
    assert _count(db, "SELECT COUNT(*) FROM paths") == stored

    # 2. resume, and kill again during the parts pass
    proc = _cli(tmp_path, tiny_models, str(photos))
    _wait_then_kill(proc, db, "SELECT COUNT(*) FROM photos WHERE parts_key IS NOT NULL", 3)
    _check_consistent(db)
    assert _count(db, "SELECT COUNT(*) FROM photos") == N  # the first pass completed before parts started

    # 3. resume to the end: everything there exactly once
    proc = _cli(tmp_path, tiny_models, str(photos))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    _check_consistent(db)
    assert _count(db, "SELECT COUNT(*) FROM photos") == N
    assert _count(db, "SELECT COUNT(*) FROM paths") == N
    assert _count(db, "SELECT COUNT(*) FROM photos WHERE parts_key IS NULL") == 0
    assert _count(db, "SELECT MAX(c) FROM (SELECT COUNT(*) c FROM parts WHERE type != 'whole' GROUP BY photo_id)") <= 2
