from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from organizer.errors import BadArgumentError
from organizer.library import Library
from organizer.search.engine import SearchQuery
from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


@pytest.fixture
def lib(make_settings) -> Library:
    """Twelve photos in the tiny CLIP's space: four of 'grandma' (one direction), eight others."""
    lib = Library(make_settings())
    rng = np.random.default_rng(0)
    grandma = unit(rng.standard_normal(32))
    photos = []
    for i in range(12):
        v = unit(grandma + 0.15 * rng.standard_normal(32)) if i < 4 else unit(rng.standard_normal(32))
        photos.append(NewPhoto(FileRef(f"/p/{i:02}.jpg", 1, 1), PhotoInfo(f"h{i}", 1, "JPEG", 8, 8),
                               NewPart("whole", v, "image")))
    lib.store.add_photos(photos, lib.models.clip.key)
    return lib


def test_label_lifecycle(lib: Library) -> None:
    labels = lib.labels
    assert labels.add("Grandma", labels.resolve(["/p/00.jpg", "photo:2"])) == 2
    assert labels.add("grandma", labels.resolve(["/p/00.jpg"])) == 0  # same label, names are case-blind
    labels.add("Nan", labels.resolve(["part:3"]))
    labels.merge("Nan", "Grandma")
    assert [(i.name, i.photos) for i in labels.list()] == [("Grandma", 3)]
    labels.rename("Grandma", "Granny")
    labels.remove("Granny", labels.resolve(["photo:2"]))
    assert labels.list()[0].photos == 2
    with pytest.raises(BadArgumentError):
        labels.resolve(["/not/indexed.jpg"])
    with pytest.raises(BadArgumentError):
        labels.rename("nobody", "x")
    labels.remove("Granny")
    assert labels.list() == []


def test_a_query_naming_a_label_ranks_by_its_concept(lib: Library) -> None:
    plain = [r.path for r in lib.search(SearchQuery(text="grandma", top_k=4, threshold=-10))]
    lib.labels.add("Grandma", lib.labels.resolve(["/p/00.jpg", "/p/01.jpg"]))
    res = lib.search(SearchQuery(text="Grandma", top_k=4, threshold=-10))
    assert sorted(r.path for r in res) == ["/p/00.jpg", "/p/01.jpg", "/p/02.jpg", "/p/03.jpg"]
    assert sorted(plain) != sorted(r.path for r in res)  # CLIP alone (random tiny model) does not find her
    blended = lib.search(SearchQuery(text="Grandma at the beach", top_k=12, threshold=-10))
    top = [r.path for r in blended[:4]]
    assert len(set(top) & {"/p/00.jpg", "/p/01.jpg", "/p/02.jpg", "/p/03.jpg"}) >= 3


def test_suggestions_learn_from_answers(lib: Library) -> None:
    lib.labels.add("Grandma", lib.labels.resolve(["/p/00.jpg"]))
    first = lib.searcher.suggest("Grandma", 3)
    assert {r.path for r in first} == {"/p/01.jpg", "/p/02.jpg", "/p/03.jpg"}  # members are not suggested
    lib.labels.add("Grandma", lib.labels.resolve(["/p/01.jpg"]))  # confirm one
    stranger = next(r.path for r in first + lib.searcher.suggest("Grandma", 11) if r.path >= "/p/04.jpg")
    lib.labels.add("Grandma", lib.labels.resolve([stranger]), positive=False)  # reject a look-alike
    again = [r.path for r in lib.searcher.suggest("Grandma", 11)]
    assert "/p/01.jpg" not in again and stranger not in again
    assert set(again[:2]) == {"/p/02.jpg", "/p/03.jpg"}  # the rest of her photos come first


def test_labels_survive_a_restart_and_the_cli(lib: Library, make_settings, capsys) -> None:
    from organizer.cli import main

    lib.labels.add("our cabin", lib.labels.resolve(["/p/05.jpg"]))
    lib.close()
    args = ["--library", str(make_settings().library), "--models", str(make_settings().models.dir)]
    assert main(["label", "add", "our cabin", "photo:7", *args]) == 0
    assert main(["label", "list", "--json", *args]) == 0
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{"):])
    assert data["labels"] == [{"name": "our cabin", "photos": 2, "parts": 2, "rejected": 0}]
    assert main(["label", "suggest", "our cabin", "--reject", "photo:9", "--top", "3", "--json", *args]) == 0
    sugg = json.loads(capsys.readouterr().out)
    assert len(sugg["suggestions"]) == 3 and all(s["photo_id"] not in (6, 8, 10) for s in sugg["suggestions"])
    assert main(["label", "rename", "nobody", "x", *args]) == 2
    assert main(["search", "our cabin", "--top", "2", "--threshold", "-10", *args]) == 0
    assert Path("/p/05.jpg").name in capsys.readouterr().out


def test_removing_photos_can_be_undone_with_everything_they_had(lib: Library) -> None:
    lib.labels.add("Grandma", lib.labels.resolve(["/p/00.jpg", "/p/01.jpg"]))
    hers = lib.label_photo_ids("Grandma")
    before = lib.search(SearchQuery(text="Grandma", top_k=12, threshold=-10))
    ids = [r.photo_id for r in before if r.path in ("/p/00.jpg", "/p/05.jpg")]
    removed, token = lib.remove_photos(ids)
    assert removed == 2 and lib.photo_count() == 10
    assert all(r.photo_id not in ids for r in lib.search(SearchQuery(text="Grandma", top_k=12, threshold=-10)))
    assert lib.undo_remove(token) == 2
    assert lib.photo_count() == 12 and lib.check().ok
    assert lib.label_photo_ids("Grandma") == hers  # her label came back with her photo
    after = lib.search(SearchQuery(text="Grandma", top_k=12, threshold=-10))  # the index reloaded them
    assert [r.photo_id for r in after] == [r.photo_id for r in before]
    with pytest.raises(Exception, match="Nothing to undo"):
        lib.undo_remove(token)


def test_a_labelling_can_be_undone(lib: Library) -> None:
    parts = lib.labels.resolve(["/p/02.jpg", "/p/03.jpg"])
    lib.labels.add("Nan", parts[:1])
    snap = lib.labels.snapshot(parts)
    lib.labels.assign("Grandma", parts)  # moves /p/02 out of Nan, makes Grandma
    assert sorted((i.name, i.photos) for i in lib.labels.list()) == [("Grandma", 2), ("Nan", 0)]
    lib.labels.restore(snap, parts)
    assert [(i.name, i.photos) for i in lib.labels.list()] == [("Nan", 1)]
