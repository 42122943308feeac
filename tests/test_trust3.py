"""The fault suite, third round: a safety net that works, scans that cannot hang, passes that check their
file, and one clear line for every hostile argument. Each test names the item of the issue it covers; each
failed on the main branch before the fix."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from organizer.cli import main
from organizer.library import Library
from organizer.media.decode import content_hash
from organizer.progress import Notice, Skipped, Summary
from organizer.store import backup
from organizer.store.db import Store
from tests.conftest import noise_image

ROOT = Path(__file__).resolve().parents[1]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> None:
    assert "Traceback" not in err and "unexpected error" not in err and "Logging error" not in err, err
    assert len(err.strip().splitlines()) == 1, err


def run(lib: Library, *roots: Path | str, parts: bool = False) -> tuple[Summary, list]:
    events = list(lib.index([str(r) for r in roots], parts=parts))
    return next(e for e in events if isinstance(e, Summary)), events


def many_photos(folder: Path, n: int, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        noise_image(seed + i, (48 + i, 40)).save(folder / f"p{i}.png")
    return folder


@pytest.fixture
def args(tmp_path: Path, tiny_models: Path) -> list[str]:
    s = tmp_path / "s.json"
    s.write_text(json.dumps({"ocr": {"enabled": False}, "faces": {"enabled": False}}))
    return ["--library", str(tmp_path / "lib"), "--models", str(tiny_models), "--settings", str(s)]


def _py(code: str, *argv: str, **kw: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *argv], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.PIPE, text=True, **kw)  # type: ignore[call-overload]


# ---- 1. backups with a relative --library; a failed backup is said ----------------------------------

def test_backup_and_restore_with_a_relative_library(capsys, tmp_path: Path, tiny_models: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    many_photos(tmp_path / "photos", 2)
    monkeypatch.chdir(tmp_path)
    rel = ["--library", "lib", "--models", str(tiny_models)]
    assert cli(capsys, "index", "photos", "--no-parts", *rel)[0] == 0
    assert cli(capsys, "label", "add", "Mine", "photos/p0.png", *rel)[0] == 0  # curation: backed up at close
    code, out, err = cli(capsys, "backup", *rel)
    assert code == 0, err
    code, out, _ = cli(capsys, "status", "--json", *rel)
    st = json.loads(out)
    assert st["backups"] == 2 and st["backup_failed"] is None  # the daily one at close, and this one
    code, out, err = cli(capsys, "restore", *rel)
    assert code == 0 and "Restored" in out, err
    assert (tmp_path / "lib" / "backups").is_dir() and not (tmp_path / "backups").exists()  # in the library


def test_a_failed_backup_is_said_by_status_and_the_window(capsys, args: list[str], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch, qtbot) -> None:
    folder = many_photos(tmp_path / "photos", 2)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0

    def broken(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(backup, "_copy", broken)
        code, _, err = cli(capsys, "label", "add", "Mine", str(folder / "p0.png"), *args)
        assert code == 0, err  # the label is stored; the backup at close failed
        code, out, _ = cli(capsys, "status", *args)
        assert "WARNING: the daily backup of" in out and "failed" in out and "full" in out
        from organizer.gui.window import MainWindow
        from organizer.settings import Settings

        lib = Library(Settings.load({"library": str(tmp_path / "lib"), "models": {"dir": args[3]}}))
        w = MainWindow(lib)
        qtbot.addWidget(w)
        assert w.message_box.isVisibleTo(w) and "Backups are failing" in w.message.text()
        w.close()
        lib.close()
    code, _, _ = cli(capsys, "backup", *args)  # works again: the warning goes
    code, out, _ = cli(capsys, "status", "--json", *args)
    assert code == 0 and json.loads(out)["backup_failed"] is None


# ---- 2. restore while another organizer has the library open ----------------------------------------

HOLDER = """
import sys
from organizer.library import Library
from organizer.settings import Settings
lib = Library(Settings.load({"library": sys.argv[1], "models": {"dir": sys.argv[2]}}))
print("open", flush=True)
sys.stdin.readline()
lib.close()
print("closed", flush=True)
"""


def _backed_up_and_held(capsys, args: list[str], tmp_path: Path) -> subprocess.Popen:
    """A library with a backup, held open by another process (which waits for a line on its input to close)."""
    folder = many_photos(tmp_path / "photos", 2)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    assert cli(capsys, "backup", *args)[0] == 0
    return _py(HOLDER, str(tmp_path / "lib"), args[3])


def test_restore_is_refused_while_another_organizer_has_the_library_open(capsys, args: list[str],
                                                                          tmp_path: Path) -> None:
    holder = _backed_up_and_held(capsys, args, tmp_path)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        code, _, err = cli(capsys, "restore", *args)
        assert code == 1 and "open in another organizer" in err and str(holder.pid) in err
        one_line(err)
        assert not list((tmp_path / "lib" / "backups").glob("replaced-*"))  # nothing was put aside
    finally:
        holder.communicate("\n", timeout=60)
    code, out, err = cli(capsys, "restore", *args)  # closed: restore goes ahead
    assert code == 0 and "Restored" in out, err


def test_a_process_killed_with_the_library_open_does_not_block_restore(capsys, args: list[str],
                                                                        tmp_path: Path) -> None:
    holder = _backed_up_and_held(capsys, args, tmp_path)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    holder.kill()
    holder.wait(30)
    code, out, err = cli(capsys, "restore", *args)
    assert code == 0 and "Restored" in out, err
    assert not list((tmp_path / "lib" / "sessions").glob("*.lock"))  # the dead process's file is gone


def test_a_backup_of_another_library_is_restored_only_when_confirmed(capsys, args: list[str], tmp_path: Path,
                                                                     tiny_models: Path) -> None:
    mine, other = many_photos(tmp_path / "mine", 2), many_photos(tmp_path / "other", 3, seed=20)
    assert cli(capsys, "index", str(mine), "--no-parts", *args)[0] == 0
    other_args = ["--library", str(tmp_path / "lib2"), "--models", str(tiny_models)]
    assert cli(capsys, "index", str(other), "--no-parts", *other_args)[0] == 0
    code, out, _ = cli(capsys, "backup", *other_args)
    theirs = Path(out.split()[-1].rstrip(".")) if out.strip() else None
    theirs = theirs if theirs and theirs.is_file() else backup.newest(tmp_path / "lib2")
    assert theirs is not None
    code, _, err = cli(capsys, "restore", str(theirs), *args)
    assert code == 2 and "another library" in err and "--yes" in err
    code, out, _ = cli(capsys, "status", "--json", *args)
    assert json.loads(out)["photos"] == 2  # untouched
    code, out, err = cli(capsys, "restore", str(theirs), "--yes", *args)
    assert code == 0, err
    code, out, _ = cli(capsys, "status", "--json", *args)
    assert json.loads(out)["photos"] == 3


# ---- 3. scans that cannot hang -------------------------------------------------------------------

def test_a_link_to_the_root_folder_is_not_walked(make_settings, tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 3)
    (folder / "everything").symlink_to("/")
    lib = Library(make_settings())
    t = time.perf_counter()
    summary, events = run(lib, folder)
    assert time.perf_counter() - t < 60
    assert summary.new == 3 and summary.scanned == 3
    assert any(isinstance(e, Notice) and "Not followed" in e.message and "everything" in e.message for e in events)


def test_links_into_system_folders_are_never_followed(make_settings, tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 2)
    (folder / "proc").symlink_to("/proc")
    (folder / "kernel.jpg").symlink_to("/proc/self/status")
    lib = Library(make_settings(scan={"follow_links": "all"}))
    summary, events = run(lib, folder)
    assert summary.new == 2
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert any("proc" in m and "system folder" in m for m in notices), notices
    skips = {Path(e.path).name: e for e in events if isinstance(e, Skipped)}
    assert skips["kernel.jpg"].reason == "not an image"


def test_a_fifo_a_device_and_a_proc_file_are_skipped_with_a_reason(capsys, args: list[str], tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 1)
    os.mkfifo(folder / "fifo.jpg")
    kernel = "/proc/kmsg" if os.path.exists("/proc/kmsg") else "/proc/self/status"
    for target in (str(folder / "fifo.jpg"), kernel, "/dev/zero"):
        code, out, err = cli(capsys, "index", target, "--no-parts", "--json", *args)
        assert code == 0, err
        res = json.loads(out)
        assert res["scanned"] == 1 and res["skipped"] == 1, (target, res)
        assert res["skipped_files"][0]["reason"] == "not an image" and "never read" in res["skipped_files"][0]["detail"]
    code, out, err = cli(capsys, "index", str(folder), "--no-parts", "--json", *args)  # inside a folder too
    res = json.loads(out)
    assert res["new"] == 1 and [s["detail"] for s in res["skipped_files"]] == ["a named pipe, not a file: never read"]


def test_a_broken_link_and_a_loop_of_links_are_reported_and_counted(capsys, args: list[str], tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 1)
    (folder / "broken_link.jpg").symlink_to(folder / "gone.jpg")
    (folder / "a.jpg").symlink_to(folder / "b.jpg")
    (folder / "b.jpg").symlink_to(folder / "a.jpg")
    code, out, err = cli(capsys, "index", str(folder), "--no-parts", "--json", *args)
    res = json.loads(out)
    reasons = {Path(s["path"]).name: s["detail"] for s in res["skipped_files"]}
    assert "which is not there" in reasons["broken_link.jpg"]
    assert "symbolic links" in reasons["a.jpg"].lower() and "b.jpg" in reasons
    assert res["scanned"] == 4 and res["skipped"] == 3 and res["new"] == 1


def test_a_read_that_makes_no_progress_is_given_up_and_the_run_goes_on(make_settings, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import organizer.media.decode as dec

    folder = many_photos(tmp_path / "photos", 3)
    release = threading.Event()
    real = dec._read

    def hung(path: str, max_bytes: int, progress: list[int], *rest: object) -> int:
        if path.endswith("p1.png"):
            release.wait(60)  # a hung network share
        return real(path, max_bytes, progress, *rest)

    monkeypatch.setattr(dec, "_read", hung)
    lib = Library(make_settings(decode={"read_stall_seconds": 0.5}))
    t = time.perf_counter()
    summary, events = run(lib, folder)
    release.set()
    assert time.perf_counter() - t < 30
    assert summary.new == 2 and summary.skipped == 1
    skip = next(e for e in events if isinstance(e, Skipped))
    assert skip.path.endswith("p1.png") and skip.reason == "unreadable" and "no progress" in skip.detail
    monkeypatch.undo()
    summary, _ = run(lib, folder)  # tried again at the next scan
    assert summary.new == 1


CTRL_C = """
import sys, threading
import organizer.media.decode as dec
real = dec._read
said = threading.Lock()
def hung(path, max_bytes, progress, *rest):
    with said:  # two reads in parallel: one whole line each (print wrote "reading" and its newline apart)
        sys.stdout.write("reading\\n")
        sys.stdout.flush()
    threading.Event().wait()  # a read that never returns
dec._read = hung
from organizer.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_ctrl_c_stops_a_run_held_by_a_read_that_never_returns(tmp_path: Path, args: list[str]) -> None:
    folder = many_photos(tmp_path / "photos", 2)
    proc = _py(CTRL_C, "index", str(folder), "--no-parts", *args)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "reading"
    time.sleep(0.5)
    t = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert time.perf_counter() - t < 10 and proc.returncode == 130, err
    assert "interrupted" in err


# ---- 4. a later pass checks that the file is still the photo ------------------------------------------

def test_a_file_replaced_between_passes_is_indexed_as_what_it_is_now(make_settings, tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 3)
    lib = Library(make_settings())
    run(lib, folder)  # the first pass only
    target = folder / "p1.png"
    old_hash = content_hash(target.read_bytes())
    old_id = next(p for p, h in lib.store.photo_hashes(range(1, 10)).items() if h == old_hash)
    noise_image(99, (64, 64)).save(target)  # another picture under the same name
    new_hash = content_hash(target.read_bytes())
    events = list(lib.index([], parts=True))  # finish the passes: no scan
    assert any(isinstance(e, Notice) and "changed since" in e.message for e in events)
    hashes = lib.store.photo_hashes(range(1, 10))
    assert old_hash not in hashes.values() and new_hash in hashes.values()  # the path is the new picture's
    new_id = next(p for p, h in hashes.items() if h == new_hash)
    assert new_id != old_id and lib.store.photos([new_id])[new_id].paths == [str(target)]
    st = lib.status()
    assert st.photos == 3 and st.parts_pass_done == 3
    assert lib.check().ok


# ---- 5. full disks and read-only libraries -------------------------------------------------------------

def _unshare() -> bool:
    if os.name != "posix" or shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare(), reason="needs root and mount namespaces (unshare -m) for a read-only bind mount")
def test_a_read_only_library_can_be_read(capsys, args: list[str], tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 3)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    assert cli(capsys, "backup", *args)[0] == 0
    lib = str(tmp_path / "lib")
    organizer = f"{sys.executable} -m organizer"
    results = {}
    for name, cmd in {"status": "status --json", "search": "search p1 --json", "check": "check",
                      "index": f"index {folder}", "restore": "restore", "label": f"label add X {folder}/p0.png"}.items():
        script = (f"mount --bind {lib} {lib} && mount -o remount,bind,ro {lib} && "
                  f"{organizer} {cmd} {' '.join(args)}")
        proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300,
                              cwd=ROOT)
        results[name] = proc
    assert results["status"].returncode == 0, results["status"].stderr
    st = json.loads(results["status"].stdout)
    assert st["photos"] == 3 and st["read_only"] is True
    assert results["search"].returncode == 0 and json.loads(results["search"].stdout)["results"]
    assert results["check"].returncode == 0 and "sound" in results["check"].stdout
    for name in ("index", "restore", "label"):
        proc = results[name]
        assert proc.returncode == 1 and "read-only" in proc.stderr, (name, proc.stderr)
        one_line(proc.stderr)


def test_a_full_disk_prints_one_line_without_logging_tracebacks(capsys, args: list[str], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    folder = many_photos(tmp_path / "photos", 2)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    logs = tmp_path / "lib" / "logs"
    shutil.rmtree(logs)
    logs.mkdir()
    (logs / "organizer.log").mkdir()  # the log cannot be written either, as on a full disk

    def full(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup, "_copy", full)
    code, _, err = cli(capsys, "label", "add", "X", str(folder / "p0.png"), *args)
    assert code == 0 and "Logging error" not in err and "Traceback" not in err, err  # stored; backup failed quietly
    code, _, err = cli(capsys, "backup", *args)
    assert code == 1 and "is full" in err and "Free some space" in err
    one_line(err)


def test_a_disk_io_error_on_a_full_disk_says_the_disk_is_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "lib")
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=0))
    err = store.translate(sqlite3.OperationalError("disk I/O error"), "write")
    assert err.kind == "full" and "is full" in str(err)
    monkeypatch.undo()
    assert store.translate(sqlite3.OperationalError("disk I/O error"), "write").kind != "full"
    store.close()


# ---- 6. a backup before every removal; commands that read refuse a folder with no library ------------

def test_forget_and_prune_back_up_first(capsys, args: list[str], tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "photos", 3)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    assert cli(capsys, "label", "add", "Kept", str(folder / "p0.png"), *args)[0] == 0
    assert cli(capsys, "forget", str(folder / "p0.png"), *args)[0] == 0
    made = list((tmp_path / "lib" / "backups").glob("library-*-before-forget.sqlite3"))
    assert len(made) == 1
    conn = sqlite3.connect(made[0])
    assert conn.execute("SELECT count(*) FROM labels WHERE name = 'Kept'").fetchone()[0] == 1  # the label is there
    conn.close()
    (folder / "p1.png").unlink()
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    code, out, err = cli(capsys, "prune", "--missing", "--yes", *args)
    assert code == 0, err
    assert list((tmp_path / "lib" / "backups").glob("library-*-before-prune.sqlite3"))


@pytest.mark.parametrize("command", [["check"], ["status"], ["search", "x"], ["label", "list"], ["people"]])
def test_a_mistyped_library_is_refused_not_created(capsys, tmp_path: Path, tiny_models: Path,
                                                   command: list[str]) -> None:
    code, out, err = cli(capsys, *command, "--library", str(tmp_path / "libary"), "--models", str(tiny_models))
    assert code == 1 and "There is no library at" in err and "sound" not in out
    one_line(err)
    assert not (tmp_path / "libary").exists()


# ---- 7. one clear line for every hostile argument -----------------------------------------------------

HOSTILE = [
    (["label", "add", "X", "photo:99999999999999999999999"], "No photo"),
    (["label", "add", "X", "part:99999999999999999999999"], "No part"),
    (["people", "split", "Someone", "face:99999999999999999999999"], "No face"),
    (["prune", "--missing", "--older-than", "99999999999999999999"], "--older-than"),
    (["project", "--export", "/proc/map.csv"], "Cannot write"),
    (["label", "rename", "Kept", ""], "needs a name"),
    (["label", "rename", "Kept", "   "], "needs a name"),
    (["label", "merge", "Kept", "   "], "needs a name"),
    (["relocate", "", "/tmp"], "empty path"),
    (["clusters", "--eps", "0"], "command line"),
    (["search", "x", "--threshold", "nan"], "--threshold"),
    (["search", "x", "--threshold", "inf"], "--threshold"),
    (["search", "x", "--threshold", "50"], "--threshold"),
    (["search", "--image", "/dev/zero"], "never read"),
    (["search", "--image", "/tmp"], "folder"),
    (["status", "--settings", "/dev/null"], "not a regular file"),
]


@pytest.mark.parametrize("argv, words", HOSTILE, ids=[" ".join(a)[:40] for a, _ in HOSTILE])
def test_hostile_arguments_get_one_clear_line(capsys, args: list[str], tmp_path: Path, argv: list[str],
                                              words: str) -> None:
    folder = many_photos(tmp_path / "photos", 2)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    assert cli(capsys, "label", "add", "Kept", str(folder / "p0.png"), *args)[0] == 0
    if "--settings" in argv:
        base = [a for i, a in enumerate(args) if a != "--settings" and (i == 0 or args[i - 1] != "--settings")]
        code, _, err = cli(capsys, *argv, *base)
    else:
        code, _, err = cli(capsys, *argv, *args)
    assert code in (1, 2) and words in err, (argv, err)
    assert "Traceback" not in err and "unexpected error" not in err, err


def test_empty_library_in_settings_and_a_missing_settings_folder_are_refused(capsys, tmp_path: Path,
                                                                             tiny_models: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    s = tmp_path / "s.json"
    s.write_text(json.dumps({"library": ""}))
    code, _, err = cli(capsys, "status", "--settings", str(s), "--models", str(tiny_models))
    assert code == 2 and "library" in err and "empty" in err
    monkeypatch.setenv("ORGANIZER_SETTINGS", str(tmp_path / "no-such-folder" / "settings.json"))
    code, _, err = cli(capsys, "status", "--library", str(tmp_path / "lib"))
    assert code == 2 and "ORGANIZER_SETTINGS" in err


def test_finetune_with_a_non_utf8_csv_or_an_unwritable_out_is_one_line(capsys, args: list[str],
                                                                        tmp_path: Path) -> None:
    many_photos(tmp_path / "bg" / "sky", 3)
    many_photos(tmp_path / "t" / "Rex", 3, seed=9)
    bad = tmp_path / "pairs.csv"
    bad.write_bytes(b"path,caption\np0.png,caf\xe9\n")
    code, _, err = cli(capsys, "finetune", str(bad), "--background", str(tmp_path / "bg"), *args)
    assert code == 2 and "not UTF-8" in err
    code, _, err = cli(capsys, "finetune", str(tmp_path / "t"), "--background", str(tmp_path / "bg"),
                       "--out", "/proc/x", *args)
    assert code == 2 and "--out /proc/x" in err
    one_line(err)


def test_names_with_newlines_and_escapes_print_on_one_line(capsys, args: list[str], tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "evil\x1b[31mred\nname.jpg").write_bytes(b"not an image")
    code, out, err = cli(capsys, "index", str(folder), "--no-parts", *args)
    assert code == 0
    line = next(ln for ln in err.splitlines() if "skipped" in ln)
    assert "\x1b" not in err and "evil\\x1b[31mred\\nname.jpg" in line


def test_an_offline_folders_photos_show_as_missing(capsys, args: list[str], tmp_path: Path) -> None:
    folder = many_photos(tmp_path / "drive" / "photos", 2)
    assert cli(capsys, "index", str(folder), "--no-parts", *args)[0] == 0
    shutil.move(tmp_path / "drive", tmp_path / "unplugged")  # gone, with no scan since
    code, out, _ = cli(capsys, "status", *args)
    assert "Offline:" in out and "2 photos" in out
    code, out, _ = cli(capsys, "search", "p1", "--json", *args)
    assert all(r["missing"] for r in json.loads(out)["results"])


# ---- 8. no litter; the window sees what the command line did -----------------------------------------

def test_failed_backups_and_markers_leave_no_litter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import organizer.fsutil as fsutil

    store = Store(tmp_path / "lib")
    with monkeypatch.context() as m:
        m.setattr(backup, "fsync", lambda p: (_ for _ in ()).throw(OSError(28, "No space left on device")))
        with contextlib.suppress(Exception):
            store.backup("manual")
    assert not [p.name for p in (tmp_path / "lib" / "backups").iterdir() if "partial" in p.name]
    with monkeypatch.context() as m:
        m.setattr(fsutil.os, "replace", lambda a, b: (_ for _ in ()).throw(OSError(28, "No space left on device")))
        store.close()
    assert not (tmp_path / "lib" / "library.json.tmp").exists()
    store = Store(tmp_path / "lib")
    made = store.backup("manual")
    store.close()
    backup.restore(store.path, store.folder, made)  # reads the backup (a check) and copies it
    assert sorted(p.name for p in (tmp_path / "lib" / "backups").iterdir() if p.name.endswith(("-wal", "-shm"))) == []


def test_the_window_shows_photos_the_command_line_added_and_forgot(qtbot, make_settings, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import organizer.gui.window as window

    monkeypatch.setattr(window, "OUTSIDE_CHECK_MS", 200)
    folder = many_photos(tmp_path / "photos", 2)
    lib = Library(make_settings())
    w = window.MainWindow(lib)
    qtbot.addWidget(w)
    w.show()
    gallery = w.library_page.gallery
    other = Library(make_settings())  # another organizer: its own connection
    run(other, folder, parts=True)  # every pass: nothing left for the window to resume
    qtbot.waitUntil(lambda: len(gallery.model_.photo_ids()) == 2, timeout=10_000)
    other.forget([str(folder / "p0.png")])
    qtbot.waitUntil(lambda: len(gallery.model_.photo_ids()) == 1, timeout=10_000)
    other.close()
    w.close()
    lib.close()
