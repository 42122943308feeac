from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from organizer.library import Library
from organizer.progress import Progress, Skipped, Stored, Summary
from tests.conftest import noise_image, sample_image


def run(lib: Library, *roots: Path, parts: bool = True) -> tuple[Summary, list]:
    events = list(lib.index([str(r) for r in roots], parts=parts))
    assert isinstance(events[-1], Summary)
    return events[-1], events


def embeddings_count(lib: Library) -> int:
    return sum(lib.store.stats().vectors_by_model.values())


def test_index_stores_each_photo_with_a_whole_photo_vector(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    summary, events = run(lib, photo_dir, parts=False)
    assert summary.new == 4 and summary.skipped == 0
    st = lib.store.stats(model=lib.models.clip.key)
    assert st.photos == 4 and st.whole_pass_done == 4
    rows = lib.store.vectors(lib.models.clip.key)
    assert rows.matrix.shape == (4, 32)
    assert np.allclose(np.linalg.norm(rows.matrix.astype(np.float32), axis=1), 1.0, atol=1e-2)
    progress = [e for e in events if isinstance(e, Progress) and e.phase == "whole"]
    assert progress[-1].done == progress[-1].total == 4 and progress[-1].rate > 0 and progress[-1].eta == 0
    assert any(isinstance(e, Stored) for e in events)


def test_reindex_is_a_noop(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    run(lib, photo_dir)
    before = embeddings_count(lib)
    summary, events = run(lib, photo_dir)
    assert (summary.new, summary.linked, summary.unchanged, summary.parts_done) == (0, 0, 4, 0)
    assert embeddings_count(lib) == before
    assert not any(isinstance(e, Stored) for e in events)


def test_moved_file_is_not_reanalysed(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    run(lib, photo_dir)
    ids = set(lib.store.all_hashes())
    before = embeddings_count(lib)
    shutil.move(photo_dir / "coffee.jpg", photo_dir / "trip" / "coffee-moved.jpg")
    summary, _ = run(lib, photo_dir)
    assert summary.new == 0 and summary.linked == 1 and summary.removed_paths == 1 and summary.missing_paths == 0
    assert set(lib.store.all_hashes()) == ids and embeddings_count(lib) == before
    assert str(photo_dir / "trip" / "coffee-moved.jpg") in lib.store.known_files()


def test_duplicate_bytes_are_one_photo_with_two_paths(make_settings, photo_dir: Path) -> None:
    shutil.copy(photo_dir / "astronaut.jpg", photo_dir / "trip" / "astronaut-copy.jpg")
    lib = Library(make_settings())
    summary, _ = run(lib, photo_dir)
    st = lib.store.stats()
    assert st.photos == 4 and st.paths == 5 and summary.new == 4 and summary.linked == 1
    # forgetting one path keeps the photo; forgetting the last one removes it
    assert lib.forget([str(photo_dir / "trip" / "astronaut-copy.jpg")]) == (1, 0)
    assert lib.forget([str(photo_dir / "astronaut.jpg")]) == (1, 1)
    assert lib.store.stats().photos == 3


def test_changed_file_is_analysed_anew_and_replaces_the_old_photo(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    run(lib, photo_dir)
    old = set(lib.store.all_hashes())
    target = photo_dir / "coffee.jpg"
    sample_image("camera").convert("RGB").save(target, quality=80)
    os.utime(target, ns=(1, 10**18))
    summary, _ = run(lib, photo_dir)
    assert summary.new == 1 and summary.missing_paths == 0
    new = set(lib.store.all_hashes())
    assert len(new) == 4 and len(new - old) == 1 and len(old - new) == 1  # the old version left
    assert lib.store.stats().paths == 4


def test_deleted_file_is_kept_as_missing_and_a_missing_folder_removes_nothing(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    run(lib, photo_dir)
    (photo_dir / "astronaut.jpg").unlink()
    summary, _ = run(lib, photo_dir)
    st = lib.store.stats()
    assert summary.missing_paths == 1 and st.photos == 4 and st.missing_photos == 1
    _, events = run(lib, photo_dir / "does-not-exist", photo_dir)
    assert any("Not found" in getattr(e, "message", "") for e in events)
    assert lib.store.stats().photos == 4


def test_bad_files_are_recorded_and_the_run_goes_on(make_settings, photo_dir: Path) -> None:
    (photo_dir / "empty.jpg").write_bytes(b"")
    (photo_dir / "notes.jpg").write_text("not a photo")
    data = (photo_dir / "astronaut.jpg").read_bytes()
    (photo_dir / "half.jpg").write_bytes(data[: len(data) // 3])
    lib = Library(make_settings())
    summary, events = run(lib, photo_dir)
    reasons = {Path(e.path).name: e.reason for e in events if isinstance(e, Skipped)}
    assert reasons == {"empty.jpg": "empty file", "notes.jpg": "not an image", "half.jpg": "truncated or corrupt"}
    assert summary.new == 4 and lib.store.stats().skipped == {"empty file": 1, "not an image": 1,
                                                                 "truncated or corrupt": 1}
    # unchanged bad files are not retried; a fixed one is indexed and leaves the skip list
    summary, _ = run(lib, photo_dir)
    assert summary.skipped == 0 and summary.unchanged == 7
    noise_image(9).save(photo_dir / "empty.jpg", "JPEG")
    summary, _ = run(lib, photo_dir)
    assert summary.new == 1 and "empty file" not in lib.store.stats().skipped


def test_parts_pass_stores_boxes_and_crop_vectors(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings(detection={"score_threshold": 0.0, "max_parts": 3, "min_area": 0.0}))
    summary, _ = run(lib, photo_dir)
    assert summary.parts_done == 4 and summary.parts_found > 0
    key = lib.models.parts_key()
    assert lib.store.stats(parts_key=key).parts_pass_done == 4
    rows = lib.store.vectors(lib.models.clip.key)
    assert len(rows.types) == 4 + summary.parts_found
    for pid in set(rows.photo_ids.tolist()):
        parts = [p for p in lib.store.parts_of(pid) if p.type not in ("whole", "face")]
        assert len(parts) <= 3
        for p in parts:
            assert p.label and 0 <= p.box[0] <= p.box[2] <= 1 and 0 <= p.box[1] <= p.box[3] <= 1


def test_area_thresholds_filter_parts(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings(detection={"score_threshold": 0.0, "min_area": 0.99, "max_area": 1.0}))
    summary, _ = run(lib, photo_dir)
    assert summary.parts_done == 4 and summary.parts_found == 0


def test_model_change_reembeds_instead_of_mixing(make_settings, photo_dir: Path, tmp_path: Path) -> None:
    from organizer.models.offline import make_tiny_clip

    lib = Library(make_settings())
    run(lib, photo_dir, parts=False)
    other = make_tiny_clip(tmp_path / "other-clip", seed=1)
    lib2 = Library(make_settings(models={"clip": str(other)}))
    assert lib2.models.clip.key != lib.models.clip.key
    summary, _ = run(lib2, photo_dir, parts=False)
    assert summary.new == 0 and summary.reembedded == 4
    assert len(lib2.store.vectors(lib2.models.clip.key).types) == 4
    assert len(lib2.store.vectors(lib.models.clip.key).types) == 0  # old vectors replaced, not mixed


def test_no_paths_finishes_pending_passes(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    run(lib, photo_dir, parts=False)
    summary, _ = run(lib)
    assert summary.parts_done == 4


def test_missing_only_root_is_a_clear_error(make_settings, tmp_path: Path) -> None:
    from organizer.errors import BadArgumentError

    lib = Library(make_settings())
    with pytest.raises(BadArgumentError, match="exist"):
        run(lib, tmp_path / "nope")


def test_a_failed_write_is_one_message_and_loses_nothing(make_settings, photo_dir: Path, tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy import event

    from organizer.errors import LibraryError

    lib = Library(make_settings())
    run(lib, photo_dir / "trip", parts=False)
    (photo_dir / "more").mkdir()
    for i in range(12):
        noise_image(i, (64 + i, 64)).save(photo_dir / "more" / f"n{i}.png")

    # a real full disk: SQLite refuses to grow the database past its current size
    pages = sqlite3.connect(lib.store.path).execute("PRAGMA page_count").fetchone()[0]

    def cap(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(lib.store.engine, "connect", cap)
    lib.store.engine.dispose()
    with pytest.raises(LibraryError, match="is full.*Everything stored before is kept") as err:
        run(lib, photo_dir)
    assert err.value.kind == "full"
    event.remove(lib.store.engine, "connect", cap)
    lib.store.engine.dispose()
    assert lib.check().ok and lib.store.stats().photos >= 2  # what was indexed before is still there
    run(lib, photo_dir)
    assert lib.status().photos == 4 + 12 and lib.status().whole_pass_done == 16


def test_a_damaged_database_is_a_clear_error(tmp_path: Path, make_settings) -> None:
    from organizer.errors import LibraryError

    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    (lib_dir / "library.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(LibraryError, match="library database"):
        Library(make_settings())


def test_a_newer_schema_is_refused(tmp_path: Path, make_settings) -> None:
    from organizer.errors import LibraryError

    lib = Library(make_settings())
    lib.store.set_meta("schema_version", "99")
    lib.close()
    with pytest.raises(LibraryError, match="newer organizer"):
        Library(make_settings())


def test_single_files_can_be_indexed(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    summary, _ = run(lib, photo_dir / "coffee.jpg", photo_dir / "trip" / "rocket.webp", parts=False)
    assert summary.new == 2 and summary.scanned == 2
    summary, _ = run(lib, photo_dir, parts=False)  # the folder later: only the other two are new
    assert summary.new == 2 and summary.unchanged == 2


def test_ocr_gate_scores_photos_from_their_whole_vectors(tmp_path: Path) -> None:
    from organizer.pipeline.ocr_gate import OTHER_PROMPTS, TEXT_PROMPTS, OcrGate
    from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo, Store

    # hand-made vectors: prompts along two axes, a sign photo near the text axis, a beach near the other
    dim = 8
    e = np.eye(dim, dtype=np.float32)

    class Clip:
        key = "m"

        def embed_texts(self, texts: list[str]) -> np.ndarray:
            assert texts == list(TEXT_PROMPTS + OTHER_PROMPTS)
            return np.stack([e[0]] * len(TEXT_PROMPTS) + [e[1]] * len(OTHER_PROMPTS))

    store = Store(tmp_path / "lib")
    sign = (0.8 * e[0] + 0.6 * e[1]).astype(np.float32)
    beach = (0.3 * e[0] + 0.954 * e[1]).astype(np.float32)
    ids = store.add_photos([NewPhoto(FileRef(f"/p/{n}.jpg", 1, 1), PhotoInfo(n, 1, "JPEG", 1, 1),
                                     NewPart("whole", v, "image")) for n, v in (("sign", sign), ("beach", beach))], "m")
    gate = OcrGate(Clip(), store, margin=-0.01)  # type: ignore[arg-type]
    assert gate.score(ids[0]) == pytest.approx(0.2, abs=2e-3) and gate.score(ids[1]) == pytest.approx(-0.654, abs=2e-3)
    assert gate.wants(ids[0]) and not gate.wants(ids[1])
    assert OcrGate(Clip(), store, margin=-0.7).wants(ids[1])  # type: ignore[arg-type]
    assert gate.wants(10**6)  # a photo with no vector yet is not skipped blindly


def test_the_parts_pass_runs_ocr_only_where_the_gate_lets_it(make_settings, photo_dir: Path, monkeypatch) -> None:
    from organizer.pipeline import ocr_gate

    lib = Library(make_settings(ocr={"enabled": True, "gate": "clip"}))
    run(lib, photo_dir, parts=False)
    scores = ocr_gate.OcrGate(lib.models.clip, lib.store, 0.0)
    by_score = sorted(scores._vectors, key=lambda pid: scores.score(pid) or 0.0)
    # a margin between the second and third photo's scores: exactly two photos pass the gate
    cut = ((scores.score(by_score[1]) or 0.0) + (scores.score(by_score[2]) or 0.0)) / 2
    lib2 = Library(make_settings(ocr={"enabled": True, "gate": "clip", "gate_margin": cut}))
    asked: list[int] = []
    real = ocr_gate.OcrGate.wants
    monkeypatch.setattr(ocr_gate.OcrGate, "wants", lambda self, pid: asked.append(pid) or real(self, pid))
    summary, _ = run(lib2, parts=True)
    assert summary.ocr_run == 2 and sorted(asked) == sorted(by_score)
