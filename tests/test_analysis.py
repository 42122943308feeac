from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from organizer.analysis.clusters import Clusterer
from organizer.analysis.neighbours import dbscan
from organizer.analysis.projection import Projector, export, place, sample_rows
from organizer.library import Library
from organizer.progress import drain
from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo


def blobs(n_per: int, centres: int, dim: int, sigma: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    truth = np.repeat(np.arange(centres), n_per)
    x = c[truth] + sigma * rng.standard_normal((len(truth), dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), truth


def run_all(gen):
    out = list(gen)
    return out[-1]


def test_dbscan_is_exactly_sklearns_cosine_dbscan() -> None:
    from sklearn.cluster import DBSCAN

    x, _ = blobs(60, 8, 64, 0.04)
    rng = np.random.default_rng(1)
    noise = rng.standard_normal((30, 64)).astype(np.float32)
    x = np.concatenate([x, noise / np.linalg.norm(noise, axis=1, keepdims=True), x[:3]])  # + exact duplicates
    ours = run_all_labels(x)
    from organizer.analysis import neighbours

    monkey = neighbours.SMALL
    neighbours.SMALL = 0  # the pruned radius graph, not scikit-learn's own search
    try:
        pruned = run_all_labels(x)
    finally:
        neighbours.SMALL = monkey
    ref = DBSCAN(eps=0.2, min_samples=2, metric="cosine", algorithm="brute").fit_predict(x)
    assert (ours == -1).sum() == (ref == -1).sum() == 30
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(ours, ref) == 1.0 and adjusted_rand_score(pruned, ref) == 1.0
    assert (pruned == -1).sum() == 30


def run_all_labels(x: np.ndarray, eps: float = 0.2, min_samples: int = 2) -> np.ndarray:
    return drain(dbscan(x, eps, min_samples))


def fill(lib: Library, vectors: np.ndarray, parts: dict[int, list[tuple[str, np.ndarray]]] | None = None) -> list[int]:
    """Photos whose whole-photo vectors are ``vectors`` (in the tiny CLIP's space), with optional parts."""
    key = lib.models.clip.key
    photos = [NewPhoto(FileRef(f"/photos/p{i:04}.jpg", 1, 1), PhotoInfo(f"h{i}", 1, "JPEG", 10, 10),
                       NewPart("whole", v, "image")) for i, v in enumerate(vectors)]
    ids = lib.store.add_photos(photos, key)
    for i, extra in (parts or {}).items():
        new = [NewPart(t, v, "text" if t == "text" else "image", (0.1, 0.1, 0.5, 0.5), 0.9, None,
                       "hello" if t == "text" else None) for t, v in extra]
        lib.store.replace_parts(ids[i], new, key, "test")
    return ids


@pytest.fixture
def lib(make_settings) -> Library:
    return Library(make_settings(projection={"max_iter": 250, "sample": 40}))


def test_clusters_are_found_named_stored_and_reused(lib: Library) -> None:
    x, truth = blobs(15, 3, 32, 0.03)
    rng = np.random.default_rng(5)
    far = rng.standard_normal((2, 32)).astype(np.float32)
    ids = fill(lib, np.concatenate([x, far / np.linalg.norm(far, axis=1, keepdims=True)]))
    res = run_all(lib.clusters())
    found = [c for c in res.clusters if c.label >= 0]
    assert len(found) == 3 and sorted(c.photos for c in found) == [15, 15, 15] and not res.reused
    assert res.clusters[-1].name == "unclustered" and res.clusters[-1].photo_ids == ids[-2:]
    for c in found:
        assert c.name and c.cover_photo_id in c.photo_ids
        members = {int(truth[ids.index(p)]) for p in c.photo_ids}
        assert len(members) == 1  # each cluster is one planted group
    assert run_all(lib.clusters()).reused  # nothing changed: stored result
    fill_more = [NewPhoto(FileRef("/photos/new.jpg", 1, 1), PhotoInfo("new", 1, "JPEG", 10, 10),
                          NewPart("whole", x[0], "image"))]
    lib.store.add_photos(fill_more, lib.models.clip.key)
    again = run_all(lib.clusters())
    assert not again.reused and max(c.photos for c in again.clusters) == 16


def test_text_parts_are_never_clustered_and_parts_mode_spans_photos(lib: Library) -> None:
    x, _ = blobs(4, 2, 32, 0.02, seed=3)
    car = x[0]  # the object parts of two photos look alike
    ids = fill(lib, blobs(4, 4, 32, 0.02, seed=9)[0][::4][:4],
               parts={0: [("vehicle", car), ("text", car)], 1: [("vehicle", car * 0.999 + 0.001)],
                      2: [("person", x[5])], 3: [("person", x[6])]})
    res = run_all(lib.clusters("parts"))
    pts = lib.store.parts_of(ids[0])
    text_part = next(p.id for p in pts if p.type == "text")
    stored = Clusterer(lib.store, lib.models.clip, lib.settings).labels_for("parts")
    assert text_part not in stored.part_ids.tolist() and len(stored.part_ids) == 4
    groups = sorted(sorted(c.photo_ids) for c in res.clusters if c.label >= 0)
    assert groups == [[ids[0], ids[1]], [ids[2], ids[3]]]


def test_sample_is_stratified_by_cluster() -> None:
    labels = np.array([0] * 990 + [1] * 5 + [2] * 5)
    idx = sample_rows(labels, 100)
    assert len(idx) <= 100 and {0, 1, 2} <= set(labels[idx].tolist())
    assert len(sample_rows(labels[:50], 100)) == 50


def test_placed_points_land_by_their_nearest_sampled_neighbours() -> None:
    x, truth = blobs(10, 2, 16, 0.02)
    coords = np.where(truth[:, None] == 0, -10.0, 10.0).astype(np.float32) * np.ones((1, 3), np.float32)
    sample = np.r_[0:5, 10:15]
    rest = np.setdiff1d(np.arange(20), sample)
    placed = place(x[rest], x[sample], coords[sample])
    assert np.allclose(placed, coords[rest], atol=1e-3)


def test_projection_samples_places_stores_and_exports(lib: Library, tmp_path: Path) -> None:
    x, _ = blobs(20, 3, 32, 0.03)
    fill(lib, x)
    res = run_all(lib.project())
    assert not res.reused and res.sampled == 40 and len(res.points.part_ids) == 60
    assert np.isfinite(res.points.xyz).all() and res.points.sampled.sum() == 40
    assert set(res.points.labels.tolist()) == {0, 1, 2}  # cluster ids stored with the coordinates
    assert run_all(lib.project()).reused
    n = export(res, tmp_path / "p.csv", lib.store, {0: "a", 1: "b", 2: "c"})
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert n == len(rows) == 60 and rows[0]["path"].startswith("/photos/") and rows[0]["cluster_name"] in "abc"
    export(res, tmp_path / "p.json", lib.store, {})
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["schema"] == "organizer.projection/1" and len(data["points"]) == 60
    from organizer.errors import BadArgumentError

    with pytest.raises(BadArgumentError):
        export(res, tmp_path / "p.txt", lib.store, {})


def test_empty_library(lib: Library) -> None:
    assert run_all(lib.clusters()).clusters == []
    assert len(run_all(lib.project()).points.part_ids) == 0


def test_projector_reuses_clusters(lib: Library) -> None:
    x, _ = blobs(5, 2, 32, 0.02)
    fill(lib, x)
    run_all(lib.clusters())
    events = list(Projector(lib.store, lib.models.clip, lib.settings).run())
    assert any(getattr(e, "reused", False) for e in events[:-1])  # the clusters were not recomputed


def test_cli_clusters_and_project(capsys, make_settings, tmp_path: Path, tiny_models: Path, photo_dir: Path) -> None:
    from organizer.cli import main

    args = ["--library", str(tmp_path / "lib"), "--models", str(tiny_models)]
    assert main(["index", str(photo_dir), "--no-parts", "--quiet", *args]) == 0
    capsys.readouterr()
    assert main(["clusters", "--json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "organizer.clusters/1" and sum(c["photos"] for c in data["clusters"]) == 4
    label = data["clusters"][0]["label"]
    assert main(["clusters", "--show", str(label), *args]) == 0
    assert "photos)" in capsys.readouterr().out
    assert main(["clusters", "--show", "99", *args]) == 2
    assert main(["project", "--export", str(tmp_path / "map.json"), *args]) == 0
    assert "3D projection of 4 photos" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "map.json").read_text())["points"]) == 4


def test_schema_1_library_is_migrated(tmp_path: Path, make_settings) -> None:
    import sqlite3

    from organizer.store import backup
    from organizer.store.migrations import V1

    db = tmp_path / "lib" / "library.sqlite3"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    for ddl in V1:  # the DDL version 1 was released with, frozen in the migrations
        conn.execute(ddl)
    conn.execute("INSERT INTO photos(hash, size, format, width, height, added_at) "
                 "VALUES ('h', 1, 'JPEG', 1, 1, '2020-01-01')")
    conn.execute("INSERT INTO paths(path, photo_id, size, mtime_ns) VALUES ('/p/a.jpg', 1, 1, 1)")
    conn.execute("INSERT INTO meta(key, value) VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    from organizer.store.schema import SCHEMA_VERSION

    lib = Library(make_settings())
    assert lib.store.get_meta("schema_version") == str(SCHEMA_VERSION) == "8"
    names = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"clusters", "analysis_points", "analysis_runs", "photo_landmarks", "labels"} <= names
    assert lib.store.stats().photos == 1  # the photo it held is still there
    lib.store.set_landmarks([(1, "Eiffel Tower", 0.9, [("Eiffel_Tower", "Eiffel Tower", 0.9, None)])], "h")
    assert lib.store.landmark_counts() == [("Eiffel Tower", 1)]
    # the library as it was before the upgrade is kept as a backup
    made = backup.backups(db.parent)
    assert len(made) == 1 and f"before-schema-{SCHEMA_VERSION}" in made[0].name
    old = sqlite3.connect(made[0])
    assert old.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("1",)


def test_a_cluster_takes_the_landmark_its_photos_share(lib: Library) -> None:
    x, _ = blobs(4, 2, 32, 0.02, seed=7)
    ids = fill(lib, x)
    lib.store.set_landmarks([(pid, "Eiffel Tower", 0.9, []) for pid in ids[:3]], "h")
    res = run_all(lib.clusters())
    named = {c.name for c in res.clusters}
    assert "Eiffel Tower" in named and len([n for n in named if n == "Eiffel Tower"]) == 1
