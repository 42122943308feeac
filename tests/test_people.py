"""Faces and People: real face models (dlib's weights install offline) for finding faces; hand-made
descriptors for grouping, naming and search, so that every expectation is fixed by hand."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import sample_image

from organizer.cli import main
from organizer.errors import BadArgumentError
from organizer.library import Library
from organizer.parts import FACE, FACE_MODALITY
from organizer.progress import Summary
from organizer.search.engine import SearchQuery
from organizer.search.index import VectorIndex
from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo


def index(lib: Library, *roots: Path) -> Summary:
    last = None
    for ev in lib.index(list(roots)):
        last = ev
    assert isinstance(last, Summary)
    return last


@pytest.fixture
def face_photos(tmp_path: Path) -> Path:
    root = tmp_path / "faces"
    root.mkdir()
    astronaut = sample_image("astronaut")
    astronaut.save(root / "eileen.jpg", quality=92)
    astronaut.resize((400, 400)).rotate(4).save(root / "eileen-small.jpg", quality=80)
    sample_image("coffee").save(root / "coffee.jpg")
    return root


def test_faces_are_found_described_and_kept_out_of_clip(make_settings, face_photos: Path) -> None:
    lib = Library(make_settings(detection={"enabled": False}))
    s = index(lib, face_photos)
    assert s.faces_done == 3 and s.faces_found >= 2
    key = lib.models.face.key
    assert key.startswith("dlib-resnet-v1@")
    rows = lib.store.vectors(key)
    assert rows.matrix.shape[1] == 128 and set(rows.types) == {FACE} and set(rows.modalities) == {FACE_MODALITY}
    paths = lib.first_paths(rows.photo_ids.tolist())
    eileen = [i for i, p in enumerate(rows.photo_ids) if "eileen" in paths[int(p)]]
    assert len(eileen) == 2  # her face in both photos, none in the coffee
    a, b = rows.matrix[eileen].astype(np.float32)
    assert np.linalg.norm(a - b) < 0.6  # one person by dlib's published threshold
    info = lib.store.face_infos(rows.part_ids.tolist())
    assert all(len(lm) == 5 and 0 < q <= 1 for lm, q in info.values())
    face = next(p for p in lib.store.parts_of(int(rows.photo_ids[eileen[0]])) if p.type == FACE)
    assert 0.3 < face.box[0] < face.box[2] < 0.6 and 0.1 < face.box[1] < face.box[3] < 0.4  # where her face is
    # never in CLIP's index: a text search cannot return a face part
    index_rows = VectorIndex(lib.store, lib.models.clip.key)
    index_rows.sync()
    assert len(index_rows) == 3 and FACE not in lib.store.vectors(lib.models.clip.key).types
    assert lib.check().ok
    assert lib.status().faces_pass_done == 3
    again = index(lib, face_photos)
    assert again.faces_done == 0  # its own key: nothing to redo


def test_faces_are_searched_in_padded_person_boxes_else_the_whole_photo(make_settings, face_photos: Path,
                                                                          monkeypatch) -> None:
    lib = Library(make_settings(detection={"enabled": False}, faces={"padding": 0.1}))
    for _ in lib.index([face_photos], parts=False):
        pass
    ids = sorted(lib.first_paths(r.id for r in lib.photo_rows()).items(), key=lambda kv: kv[1])
    eileen = ids[1][0]  # by path: coffee.jpg, eileen-small.jpg, eileen.jpg
    monkeypatch.setattr(lib.store, "person_boxes",
                        lambda photo_ids: {p: [(0.2, 0.1, 0.6, 0.9)] if p == eileen else [] for p in photo_ids})
    seen: dict[int, object] = {}
    real = lib.models.face.find

    def spy(image, regions=None):
        seen[len(seen)] = regions
        return real(image, regions)

    monkeypatch.setattr(lib.models.face, "find", spy)
    for _ in lib.index([]):
        pass
    regions = list(seen.values())
    assert regions.count(None) == 2  # the two photos without a person box: the whole photo
    padded = [r for r in regions if r is not None]
    assert padded == [[pytest.approx((0.16, 0.02, 0.64, 0.98))]]
    faces = [p for p in lib.store.parts_of(eileen) if p.type == FACE]
    assert len(faces) == 1 and faces[0].box[0] >= 0.2 and faces[0].box[2] <= 0.64  # found inside the box


def test_small_faces_are_kept_as_boxes_without_identity(make_settings, face_photos: Path) -> None:
    lib = Library(make_settings(detection={"enabled": False}, faces={"min_size": 500}))
    s = index(lib, face_photos)
    assert s.faces_found >= 2
    assert len(lib.store.vectors(lib.models.face.key).part_ids) == 0
    assert lib.people.overview().unidentified == s.faces_found
    assert not lib.check().consistency  # parts without a vector are by design for faces


def test_faces_off_without_dlib(make_settings, face_photos: Path, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "dlib" else real(name, *a))
    lib = Library(make_settings(detection={"enabled": False}))
    s = index(lib, face_photos)
    assert s.faces_done == 0 and s.parts_done == 3  # the rest of the run goes on
    st = lib.status()
    assert st.faces_off and "dlib" in st.faces_off and st.models["face"] is None


def test_a_named_face_folder_that_cannot_be_used_is_an_error(make_settings, tmp_path: Path) -> None:
    from organizer.errors import ModelUnavailableError

    (tmp_path / "empty-face").mkdir()
    lib = Library(make_settings(models={"face": str(tmp_path / "empty-face")}))
    with pytest.raises(ModelUnavailableError, match="lacks"):
        lib.models.faces_key()


# ---- People on hand-made descriptors -----------------------------------------------------------

def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


@pytest.fixture
def people_lib(make_settings) -> tuple[Library, dict[str, list[int]]]:
    """Ten photos; faces with hand-made descriptors: A on photos 0-3, B on 4-5, a stranger on 6, and A and B
    together on photo 7. Whole photos 0-7 point one way in CLIP's space ('beach'), 8-9 another."""
    lib = Library(make_settings())
    rng = np.random.default_rng(1)
    beach, other = _unit(rng.standard_normal(32)), _unit(rng.standard_normal(32))
    photos = [NewPhoto(FileRef(f"/p/{i}.jpg", 1, 1), PhotoInfo(f"h{i}", 1, "JPEG", 8, 8),
                       NewPart("whole", beach if i < 5 else other, "image")) for i in range(10)]
    ids = lib.store.add_photos(photos, lib.models.clip.key)
    base = {n: rng.standard_normal(128).astype(np.float32) * 0.09 for n in ("A", "B", "C")}
    key = lib.models.face.key
    faces: dict[str, list[int]] = {"A": [], "B": [], "C": []}

    def face(who: str, x: float = 0.3) -> NewPart:
        vec = base[who] + rng.standard_normal(128).astype(np.float32) * 0.01  # about 0.11 apart within a person
        return NewPart(FACE, vec, FACE_MODALITY, (x, 0.2, x + 0.2, 0.5), 1.0, space=key,
                       landmarks=[(0.0, 0.0)] * 5, quality=0.5)

    plan = {0: ["A"], 1: ["A"], 2: ["A"], 3: ["A"], 4: ["B"], 5: ["B"], 6: ["C"], 7: ["A", "B"]}
    fkey = lib.models.faces_key()
    for i, who in plan.items():
        lib.store.replace_faces(ids[i], [face(w, 0.1 + 0.4 * j) for j, w in enumerate(who)], fkey)
        rows = [p for p in lib.store.parts_of(ids[i]) if p.type == FACE]
        for w, r in zip(who, rows, strict=True):
            faces[w].append(r.id)
    return lib, faces


def group(lib: Library, who: str, faces: dict[str, list[int]]) -> str:
    """The number `organizer people` lists for the unnamed group of ``who``'s faces."""
    return str(next(p.number for p in lib.people.overview().people if p.name is None and faces[who][0] in p.faces))


def test_faces_group_by_person_and_a_name_sticks(people_lib) -> None:
    lib, faces = people_lib
    o = lib.people.overview()
    groups = [sorted(p.faces) for p in o.people]
    assert groups == [sorted(faces["A"]), sorted(faces["B"])]  # largest first; the stranger alone is not shown
    assert [p.number for p in o.people] == [min(faces["A"]), min(faces["B"])] and o.ungrouped == 1 and o.faces == 9
    assert lib.people.name(group(lib, "A", faces), "Grandma").faces == 5
    o = lib.people.overview()
    assert [(p.name, len(p.photos)) for p in o.people] == [("Grandma", 5), (None, 3)]
    assert lib.labels.list()[0].name == "Grandma"  # a person is a label
    # whose members are faces: the Labels page asks CLIP for no suggestions (it said "no members with vectors")
    assert not lib.label_has_concept("Grandma")
    lib.label_photos("Beach", [lib.part_photos([faces["A"][0]])[faces["A"][0]]])
    assert lib.label_has_concept("Beach")
    with pytest.raises(BadArgumentError, match="No unnamed group 5"):
        lib.people.name("5", "Nobody")


def test_new_faces_are_suggested_confirmed_rejected_and_split(people_lib) -> None:
    lib, faces = people_lib
    people = lib.people
    people.name(group(lib, "A", faces), "Grandma")
    grandma = faces["A"]
    people.split("Grandma", [grandma[0]])  # a wrong face out: back to unnamed, never suggested to her again
    o = people.overview()
    assert sorted(o.people[0].faces) == sorted(grandma[1:]) and grandma[0] not in o.people[0].suggested
    assert grandma[0] not in people.suggestions("Grandma")
    # a face that is hers but was never named joins her as a suggestion (and counts in search)
    lib.labels.remove("Grandma", [grandma[1]])
    assert people.suggestions("Grandma") == [grandma[1]]
    assert lib.part_photos([grandma[1]])[grandma[1]] in people.photos_of(["grandma"])
    people.reject("Grandma", [grandma[1]])
    assert people.suggestions("Grandma") == []
    people.confirm("Grandma", [grandma[1]])
    assert grandma[1] in people.overview().people[0].faces


def test_merging_and_renaming_people(people_lib) -> None:
    lib, faces = people_lib
    people = lib.people
    a = group(lib, "A", faces)
    people.name(group(lib, "B", faces), "Bob")  # B's group
    with pytest.raises(BadArgumentError, match="twice"):
        people.merge(a, a)
    with pytest.raises(BadArgumentError, match="same person"):
        people.merge("Bob", "bob")
    assert people.merge(a, "Bob") == "Bob"  # a group merged into a person
    assert [p.name for p in people.overview().people] == ["Bob"]
    assert len(people.overview().people[0].faces) == 8
    people.name("Bob", "Robert")
    assert people.names() == ["Robert"]
    # a face labelled through the viewer moves to its new person
    lib.label_parts("Alice", [faces["A"][0]])
    assert faces["A"][0] not in people.overview().people[-1].faces
    assert {p.name for p in people.overview().people} == {"Alice", "Robert"}


def test_names_survive_when_the_faces_are_found_again(people_lib) -> None:
    lib, faces = people_lib
    lib.people.name(group(lib, "A", faces), "Grandma")
    photo = lib.part_photos([faces["A"][0]])[faces["A"][0]]
    old = next(p for p in lib.store.parts_of(photo) if p.type == FACE)
    vec = lib.store.vectors(lib.models.face.key).matrix[0].astype(np.float32)
    moved = NewPart(FACE, vec, FACE_MODALITY, (old.box[0] + 0.01, old.box[1], old.box[2] + 0.01, old.box[3]), 1.0,
                    space=lib.models.face.key, landmarks=[(0.0, 0.0)] * 5, quality=0.5)
    lib.store.replace_faces(photo, [moved], "another-key")
    new = next(p for p in lib.store.parts_of(photo) if p.type == FACE)
    assert new.id != old.id and new.id in lib.labels.members("Grandma")[0]


def test_search_by_person_alone_with_words_and_together(people_lib) -> None:
    lib, faces = people_lib
    b = group(lib, "B", faces)
    lib.people.name(group(lib, "A", faces), "Grandma")
    lib.people.name(b, "Bob")  # B keeps its number once A is named
    photo = lambda f: lib.part_photos([f])[f]  # noqa: E731
    hers = {photo(f) for f in faces["A"]}
    his = {photo(f) for f in faces["B"]}
    alone = lib.search(SearchQuery(persons=["Grandma"], top_k=20))
    assert {r.photo_id for r in alone} == hers
    both = lib.search(SearchQuery(persons=["Grandma", "bob"], top_k=20))
    assert {r.photo_id for r in both} == hers & his and len(both) == 1
    # a query naming her: her photos only, ranked by the rest of the words
    ranked = lib.search(SearchQuery(text="Grandma at the beach", top_k=20, threshold=-10))
    assert {r.photo_id for r in ranked} <= hers and ranked
    # --person with words: the same, the person given apart from the words
    given = lib.search(SearchQuery(text="at the beach", persons=["Grandma"], top_k=20, threshold=-10))
    assert [r.photo_id for r in given] == [r.photo_id for r in ranked]
    with pytest.raises(BadArgumentError, match="No person named"):
        lib.search(SearchQuery(persons=["Nobody"]))


def test_people_cli(people_lib, capsys) -> None:
    lib, faces = people_lib
    args = _closed(lib)
    assert main(["people", *args]) == 0
    out = capsys.readouterr().out
    a, b = min(faces["A"]), min(faces["B"])
    assert f"{a}  (unnamed)  (5 faces)" in out and f"{b}  (unnamed)  (3 faces)" in out
    assert main(["people", "name", str(a), "Grandma", *args]) == 0
    assert main(["people", "--json", "--faces", *args]) == 0
    capsys.readouterr()
    assert main(["people", "--json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "organizer.people/1" and data["faces_off"] is None
    assert [(p["name"], p["photos"]) for p in data["people"]] == [("Grandma", 5), (None, 3)]
    assert main(["people", "split", "Grandma", f"face:{faces['A'][0]}", *args]) == 0
    lib2 = Library(lib.settings)
    lib2.labels.remove("Grandma", [faces["A"][1]])  # a face of hers, no longer named: a suggestion
    lib2.close()
    capsys.readouterr()
    assert main(["people", "suggest", "Grandma", "--json", *args]) == 0
    sugg = json.loads(capsys.readouterr().out)
    assert [s["face_id"] for s in sugg["suggestions"]] == [faces["A"][1]]
    assert main(["people", "suggest", "Grandma", "--confirm", f"face:{faces['A'][1]}", *args]) == 0
    assert "No more suggestions for Grandma" in capsys.readouterr().out
    assert main(["search", "--person", "Grandma", "--json", *args]) == 0
    capsys.readouterr()
    assert main(["search", "--person", "Grandma", "--json", *args]) == 0
    assert len(json.loads(capsys.readouterr().out)["results"]) == 4
    assert main(["people", "split", "Grandma", "face:x", *args]) == 2
    assert main(["people", "name", "9", "X", *args]) == 2


def test_faces_come_from_the_parts_pass_decode_with_the_same_result(make_settings, face_photos: Path,
                                                                     monkeypatch, tmp_path: Path) -> None:
    """With the detector on, a new photo's faces are found from the photo the parts pass decoded (one decode
    of the photo at the detection canvas, not two), and are the faces the faces pass alone finds."""
    import organizer.pipeline.indexer as indexer
    import organizer.pipeline.rereading as rereading  # where the later passes decode

    decodes: list[int | None] = []
    real_load = indexer.load

    def counting(path, dec, max_side=None, **kw):
        decodes.append(max_side)
        return real_load(path, dec, max_side=max_side, **kw)

    monkeypatch.setattr(indexer, "load", counting)
    monkeypatch.setattr(rereading, "load", counting)
    together = Library(make_settings())
    s = index(together, face_photos)
    canvas = together.settings.detection.canvas
    assert s.parts_done == 3 and s.faces_done == 3 and s.faces_found >= 2
    assert decodes.count(canvas) == 3  # once per photo for parts and faces

    decodes.clear()  # the faces pass on its own: faces switched on after the parts were found
    alone = Library(make_settings(library=str(tmp_path / "alone"), faces={"enabled": False}))
    index(alone, face_photos)
    alone = Library(make_settings(library=str(tmp_path / "alone")))
    s2 = index(alone)
    assert s2.parts_done == 0 and s2.faces_done == 3
    assert decodes.count(canvas) == 6  # parts, then faces: two decodes each

    def faces(lib: Library) -> list[tuple[str, tuple[float, ...], float]]:
        paths = lib.first_paths(r.id for r in lib.photo_rows())
        return sorted((Path(paths[pid]).name, tuple(round(x, 5) for x in p.box), round(p.confidence, 5))
                      for pid in paths for p in lib.store.parts_of(pid) if p.type == FACE)

    assert faces(together) == faces(alone) and len(faces(together)) == s.faces_found
    assert together.models.faces_key() == alone.models.faces_key()


def test_damaged_face_weights_leave_the_parts_stored(make_settings, face_photos: Path, tmp_path: Path) -> None:
    """Face weights that cannot be read stop the run with the reason, after every photo's parts are stored
    (the parts pass, which now finds faces too, does not fail on them)."""
    from organizer.errors import ModelUnavailableError
    from organizer.models.face import FILES

    broken = tmp_path / "broken-face"
    broken.mkdir()
    for name in FILES:
        (broken / name).write_bytes(b"not dlib's weights")
    lib = Library(make_settings(models={"face": str(broken)}))
    with pytest.raises(ModelUnavailableError):
        index(lib, face_photos)
    st = lib.status()
    assert st.photos == 3 and st.parts_pass_done == 3 and st.faces_pass_done == 0


# ---- People a user can trust: stable numbers, no silent merge, undo, every face nameable ---------------

def _closed(lib: Library) -> list[str]:
    """Close the fixture's library and return the command line's arguments for it."""
    lib.close()
    return ["--library", str(lib.settings.library), "--models", str(lib.settings.models.dir)]


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_listed_group_number_keeps_naming_the_same_faces(people_lib, capsys) -> None:
    """`people` listed 1 A, 2 B; naming 1 renumbered B as 1, and `people name 2 ...` then named the wrong
    people. Numbers are now the group's first face id: naming one group changes no other's number."""
    lib, faces = people_lib
    args = _closed(lib)
    code, out, _ = _cli(capsys, "people", *args)
    listed = {line.split()[2]: line for line in out.splitlines() if "(unnamed)" in line}
    a, b = str(min(faces["A"])), str(min(faces["B"]))
    assert set(listed) == {a, b} and "e.g. /p/" in listed[a]  # a photo per group
    assert _cli(capsys, "people", "name", a, "Kit", *args)[0] == 0
    assert _cli(capsys, "people", "name", b, "Barack Obama", *args)[0] == 0  # as listed before
    check = Library(lib.settings)
    named = {p.name: sorted(p.faces) for p in check.people.overview().people if p.name}
    assert named["Barack Obama"] == sorted(faces["B"]) and sorted(named["Kit"]) == sorted(faces["A"])
    code, _, err = _cli(capsys, "people", "name", a, "Again", *args)  # that group is gone now: refused
    assert code == 2 and "No unnamed group" in err
    check.close()


def test_a_name_in_use_needs_merge_and_everything_is_undoable(people_lib, capsys) -> None:
    lib, faces = people_lib
    args = _closed(lib)
    a, b = str(min(faces["A"])), str(min(faces["B"]))
    assert _cli(capsys, "people", "name", a, "Kit Harington", *args)[0] == 0
    code, _, err = _cli(capsys, "people", "name", b, "kit harington", *args)
    assert code == 2 and "already a person" in err and "--merge" in err
    code, out, _ = _cli(capsys, "people", "name", b, "Kit Harington", "--merge", *args)
    # the merged count, less B's face in photo 7 where Kit already is
    assert code == 0 and "Kit Harington: 7 faces (merged)" in out and "Left out" in out
    code, out, _ = _cli(capsys, "undo", *args)
    assert code == 0 and "Undone: name" in out
    check = Library(lib.settings)
    o = check.people.overview()
    assert [(p.name, sorted(p.faces)) for p in o.people if p.name] == [("Kit Harington", sorted(faces["A"]))]
    assert any(p.name is None and sorted(p.faces) == sorted(faces["B"]) for p in o.people)
    check.close()
    assert _cli(capsys, "people", "split", "Kit Harington", f"face:{faces['A'][0]}", *args)[0] == 0
    assert _cli(capsys, "undo", *args)[0] == 0
    assert _cli(capsys, "people", "merge", "Kit Harington", "Kit Harington", *args)[0] == 2
    code, _, err = _cli(capsys, "people", "split", "Kit Harington", f"face:{faces['B'][0]}", *args)
    assert code == 2 and "is not Kit Harington's" in err  # not theirs: nothing "moved out"
    assert _cli(capsys, "undo", *args)[0] == 0  # the naming itself
    assert _cli(capsys, "undo", *args)[1].startswith("Nothing to undo")
    check = Library(lib.settings)
    assert check.people.names() == [] and check.labels.names() == []
    check.close()


def test_a_face_seen_once_and_small_faces_can_be_named(people_lib, capsys) -> None:
    lib, faces = people_lib
    args = _closed(lib)
    code, out, _ = _cli(capsys, "people", *args)
    assert "like no other yet (`organizer people --all`" in out
    code, out, _ = _cli(capsys, "people", "--all", *args)
    stranger = str(faces["C"][0])
    assert f"{stranger}  (unnamed)  (1 face)" in out
    assert _cli(capsys, "people", "name", stranger, "Ms Stranger", *args)[0] == 0
    check = Library(lib.settings)
    assert check.people.names() == ["Ms Stranger"]
    check.close()


def test_labelling_a_face_moves_it_and_confirming_says_from_whom(people_lib, capsys) -> None:
    lib, faces = people_lib
    args = _closed(lib)
    a, b = str(min(faces["A"])), str(min(faces["B"]))
    assert _cli(capsys, "people", "name", a, "Anna", *args)[0] == 0
    assert _cli(capsys, "people", "name", b, "Bert", *args)[0] == 0
    face = faces["A"][1]
    assert _cli(capsys, "label", "add", "Bert", f"part:{face}", *args)[0] == 0
    check = Library(lib.settings)
    assert check.people.face_names([face]) == {face: "Bert"}  # out of Anna's, not under two names
    check.close()
    code, out, _ = _cli(capsys, "people", "suggest", "Anna", "--confirm", f"face:{face}", *args)
    assert code == 0 and f"face:{face} confirmed as Anna (it was Bert's)." in out
    assert _cli(capsys, "people", "name", "Anna", "Ann O'Neil", *args)[0] == 0
    code, out, _ = _cli(capsys, "people", "name", "Ann O'Neil", "Ann O'Neill", *args)
    assert "organizer search --person 'Ann O'\"'\"'Neill'" in out  # a command a shell takes as printed


def test_a_first_name_or_surname_alone_finds_the_person(people_lib) -> None:
    lib, faces = people_lib
    lib.people.name(group(lib, "B", faces), "Barack Obama")
    lib.people.name(group(lib, "A", faces), "Joe Biden")
    photo = lambda f: lib.part_photos([f])[f]  # noqa: E731
    his = {photo(f) for f in faces["B"]}
    assert {r.photo_id for r in lib.search(SearchQuery(persons=["Obama"], top_k=20))} == his
    assert {r.photo_id for r in lib.search(SearchQuery(text="obama", top_k=20, threshold=-10))} <= his


def test_exact_words_come_first_ranked_by_score_within() -> None:
    """Hand-made vectors: photos the query names by a whole word (their place, file name, a word on them) come
    before photos more similar to the query that only share a prefix; their vector score orders them."""
    from organizer.search.ranking import rank, row_scores

    def unit(*xs: float) -> np.ndarray:
        v = np.array(xs + (0.0,) * (4 - len(xs)), np.float32)
        return v / np.linalg.norm(v)

    idx = VectorIndex(None, "test", dtype="fp32")  # type: ignore[arg-type]
    vecs = [unit(1, 0.1), unit(1, 0.3), unit(0.3, 1), unit(0.1, 1)]  # photos 1, 2 close to the query; 3, 4 far
    idx.add_arrays(np.array([10, 20, 30, 40]), np.array([1, 2, 3, 4]), ["whole"] * 4, ["image"] * 4, np.stack(vecs))
    raw = idx.similarities(unit(1))
    cal = {"image>image": (0.0, 1.0)}
    scores = row_scores(idx, raw, "image", {}, cal)
    # "arezzo": photos 3 and 4 are in Arezzo (exact); photo 1 only has "arezzo2022" (a prefix hit)
    ranked = rank(idx, scores, raw, 4, -1.0, keyword={1: 0.25, 3: 0.5, 4: 0.5}, exact={3, 4})
    assert [r.photo_id for r in ranked] == [3, 4, 1, 2]
    assert all(0.0 <= r.score <= 1.0 for r in ranked)  # scores stay in the threshold's range
    top1 = rank(idx, scores, raw, 1, -1.0, keyword={1: 0.25, 4: 0.5}, exact={4})
    assert [r.photo_id for r in top1] == [4]


def test_a_file_named_by_the_query_comes_first(make_settings, tmp_path: Path) -> None:
    """`IMG_2003` found IMG_2003.jpg fifth, behind files matching only "IMG"."""
    from tests.conftest import noise_image

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(1, 9):
        noise_image(i, (40 + i, 40)).save(folder / f"IMG_{2000 + i}.png")
    lib = Library(make_settings())
    for _ in lib.index([str(folder)], parts=False):
        pass
    for name in ("IMG_2003", "img 2007", "IMG_2005.png"):
        res = lib.search(SearchQuery(text=name, top_k=8, threshold=-10))
        assert Path(res[0].path).stem.lower() == name.lower().replace(" ", "_").removesuffix(".png"), name
