from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from organizer.landmarks.catalogue import catalogue, distance_km, friendly_name
from organizer.landmarks.head import NONE_KEY, HeadClass, LandmarkHead, zero_shot_head
from organizer.landmarks.labeller import label_photos
from organizer.library import Library
from organizer.search.engine import SearchQuery
from organizer.training.data import Embedded, Item, clean, read_dataset, split
from organizer.training.head import TrainConfig, TrainResult, evaluate, train_head
from tests.conftest import noise_image

EIFFEL = (48.8584, 2.2945)
LIBERTY = (40.6892, -74.0445)


def test_catalogue_has_500_checkable_landmarks() -> None:
    marks = catalogue()
    assert len(marks) >= 500 and len({m.key for m in marks}) == len(marks)
    for m in marks:
        assert m.name and m.city and m.country and m.wikimedia_category.startswith("Category:")
        assert -90 <= m.latitude <= 90 and -180 <= m.longitude <= 180
        assert not m.wikidata or (m.wikidata.startswith("Q") and m.wikidata[1:].isdigit())
    eiffel = next(m for m in marks if m.key == "Eiffel_Tower")
    assert eiffel.wikidata == "Q243" and distance_km(eiffel.latitude, eiffel.longitude, *EIFFEL) < 0.1


def test_friendly_names() -> None:
    assert friendly_name("Category:Eiffel_Tower") == "Eiffel Tower"
    assert friendly_name("http://commons.wikimedia.org/wiki/Category:Sagrada_Fam%C3%ADlia") == "Sagrada Família"
    assert friendly_name("Lombard_Street_(San_Francisco)") == "Lombard Street"
    assert 340 < distance_km(*EIFFEL, 51.5007, -0.1246) < 345  # Paris to London


def two_class_head() -> LandmarkHead:
    w = np.array([[10.0, 0, 0], [0, 10.0, 0], [0, 0, 10.0]], np.float32)
    classes = [HeadClass("Eiffel_Tower", "Eiffel Tower", *EIFFEL), HeadClass("Statue_of_Liberty", "Statue of Liberty",
                                                                               *LIBERTY), HeadClass(NONE_KEY, "a person")]
    return LandmarkHead(w, np.zeros(3, np.float32), classes, "m")


def test_labels_threshold_and_background() -> None:
    head = two_class_head()
    x = np.array([[1, 0, 0], [0, 0, 1], [0.3, 0.28, 0.2]], np.float32)
    out = label_photos(head, x, [1, 2, 3], {}, threshold=0.5, max_km=5)
    assert out[0][1] == "Eiffel Tower" and out[0][2] > 0.99
    assert out[1][1] is None  # a background class wins: no landmark shown
    assert out[2][1] is None and out[2][3][0][1] == "Eiffel Tower"  # unsure: listed, not shown
    assert [t[1] for t in out[0][3]] == ["Eiffel Tower", "Statue of Liberty"]  # background never listed


def test_gps_rejects_far_landmarks_and_favours_near_ones() -> None:
    head = two_class_head()
    x = np.array([[0.3, 0.28, 0.2], [0.3, 0.28, 0.2]], np.float32)  # a bit more like the Eiffel Tower
    near_liberty = {2: (40.69, -74.04)}
    out = label_photos(head, x, [1, 2], near_liberty, threshold=0.5, max_km=5)
    assert out[0][1] is None and out[0][3][0][1] == "Eiffel Tower"  # no GPS: Eiffel first, but unsure
    assert out[1][1] == "Statue of Liberty" and out[1][2] > 0.6  # taken in New York: Liberty, shown
    assert out[1][3][0][3] < 5  # distance kept
    assert all(t[0] != "Eiffel_Tower" for t in out[1][3])  # 5800 km away: rejected


def test_head_round_trip(tmp_path: Path) -> None:
    head = two_class_head()
    head.meta = {"source": "trained"}
    head.save(tmp_path / "h")
    back = LandmarkHead.load(tmp_path / "h")
    assert [c.key for c in back.classes] == [c.key for c in head.classes]
    assert back.classes[0].latitude == EIFFEL[0] and back.key == head.key
    assert np.allclose(back.logits(np.eye(3, dtype=np.float32)), head.logits(np.eye(3, dtype=np.float32)))


def test_zero_shot_head_covers_the_catalogue_and_is_cached(make_settings, tmp_path: Path) -> None:
    lib = Library(make_settings())
    head = zero_shot_head(lib.models.clip, cache=tmp_path / "heads")
    assert len(head.classes) > len(catalogue()) and head.weight.shape[1] == 32
    again = zero_shot_head(lib.models.clip, cache=tmp_path / "heads")
    assert again.key == head.key and len(list((tmp_path / "heads").iterdir())) == 1


def _jpeg_with_gps(path: Path, seed: int, lat: float, lon: float) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N" if lat >= 0 else "S", 2: (abs(lat), 0.0, 0.0),
                                 3: "E" if lon >= 0 else "W", 4: (abs(lon), 0.0, 0.0)})
    noise_image(seed, (64, 48)).save(path, "JPEG", exif=exif)


def test_indexing_labels_photos_searchable_and_listed(make_settings, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "trip"
    folder.mkdir()
    _jpeg_with_gps(folder / "a.jpg", 1, *EIFFEL)
    _jpeg_with_gps(folder / "b.jpg", 2, *LIBERTY)
    _jpeg_with_gps(folder / "c.jpg", 3, 51.5010, -0.1250)  # by Big Ben
    noise_image(4).save(folder / "d.jpg")  # no GPS
    lib = Library(make_settings())
    summary = list(lib.index([str(folder)], parts=False))[-1]
    key = lib.landmarks_key()
    assert lib.store.count_needing_landmarks(key) == 0  # every photo went through the zero-shot head
    # a head trained so that photo a looks like the Eiffel Tower; with the tiny random CLIP every photo
    # does, but b was taken in New York (both landmarks rejected) and c in London (Big Ben is near)
    rows = lib.store.vectors(lib.models.clip.key)
    by_name = {Path(lib.store.photos([int(p)])[int(p)].paths[0]).name: v for p, v in zip(rows.photo_ids, rows.matrix, strict=True)}
    va = by_name["a.jpg"].astype(np.float32)
    va /= np.linalg.norm(va)
    # d (no GPS) gets a hand-made vector pointing away from a: the head must call it Big Ben
    d_part = next(int(part) for part, p in zip(rows.part_ids, rows.photo_ids, strict=True)
                  if Path(lib.store.photos([int(p)])[int(p)].paths[0]).name == "d.jpg")
    lib.store.set_whole_vectors([(d_part, -va)], lib.models.clip.key)
    w = np.stack([va * 60, -va * 60]).astype(np.float32)
    head = LandmarkHead(w, np.zeros(2, np.float32), [HeadClass("Eiffel_Tower", "Eiffel Tower", *EIFFEL),
                                                      HeadClass("Big_Ben", "Big Ben", 51.5007, -0.1246)],
                        lib.models.clip.key, meta={"source": "trained"})
    head.save(Path(lib.settings.library) / "heads" / "landmarks")
    lib2 = Library(make_settings())
    summary = list(lib2.index([], parts=False))[-1]
    assert summary.landmarks >= 1
    shown = {Path(lib2.store.photos([pid])[pid].paths[0]).name: lib2.store.photos([pid])[pid].landmark
             for pid in lib2.store.photo_for_hash(lib2.store.all_hashes()).values()}
    assert shown == {"a.jpg": "Eiffel Tower", "b.jpg": None, "c.jpg": "Big Ben", "d.jpg": "Big Ben"}
    eiffel = ["a.jpg"]
    res = lib2.search(SearchQuery(landmark="eiffel tower"))
    assert sorted(Path(r.path).name for r in res) == eiffel and res[0].info.landmark == "Eiffel Tower"
    res = lib2.search(SearchQuery(text="eiffel", top_k=5))
    assert Path(res[0].path).name in eiffel and res[0].keyword_score > 0
    res = lib2.search(SearchQuery(text="anything", landmark="Eiffel Tower", threshold=-100))
    assert [Path(r.path).name for r in res] == eiffel
    from organizer.cli import main

    assert main(["landmarks", "--library", str(lib2.settings.library), "--models", str(lib2.settings.models.dir)]) == 0
    assert "Eiffel Tower" in capsys.readouterr().out


def clusters_data(n_classes: int, per: int, dim: int = 32, spread: float = 0.5, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_classes, dim)).astype(np.float32)
    y = np.repeat(np.arange(n_classes), per)
    x = centres[y] + spread * rng.standard_normal((len(y), dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), y


@pytest.mark.parametrize("loss", ["ce", "arcface"])
def test_training_rises_well_above_chance(loss: str) -> None:
    x, y = clusters_data(10, 40)
    tr, va, te = split(y)
    classes = [HeadClass(f"c{i}", f"class {i}") for i in range(10)]
    chance = evaluate(LandmarkHead(np.zeros((10, 32), np.float32), np.zeros(10, np.float32), classes, "m"),
                      x[te], y[te], 0.5)
    events = list(train_head(x[tr], y[tr], x[va], y[va], classes, "m", TrainConfig(loss=loss, lr=1e-2)))
    result = events[-1]
    assert isinstance(result, TrainResult)
    ev = evaluate(result.head, x[te], y[te], 0.5)
    assert ev.top1 >= 0.9 and ev.top5 >= ev.top1 and chance.top1 <= 0.2


def test_early_stopping_and_plateau_schedule_on_data_it_overfits() -> None:
    x, y = clusters_data(5, 16, dim=64, spread=3.0, seed=2)
    tr, va, _ = split(y)
    classes = [HeadClass(f"c{i}", f"class {i}") for i in range(5)]
    result = list(train_head(x[tr], y[tr], x[va], y[va], classes, "m", TrainConfig(lr=0.05)))[-1]
    assert result.stopped_early and len(result.history) < 100
    assert len(result.history) - result.best_epoch == 5  # patience 5, best epoch's weights kept
    lrs = [h["lr"] for h in result.history]
    assert lrs[-1] < lrs[0]  # ReduceLROnPlateau lowered the learning rate


def test_split_is_stratified_and_disjoint() -> None:
    y = np.repeat(np.arange(4), 20)
    tr, va, te = split(y)
    assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))
    assert len(tr) + len(va) + len(te) == 80
    for part in (tr, va, te):
        assert set(y[part].tolist()) == {0, 1, 2, 3}


def test_cleaning_removes_planted_problems() -> None:
    x, y = clusters_data(3, 12, spread=0.4, seed=4)
    items = [Item(f"/d/{lab}/{i}.jpg", f"L{lab}", f"L{lab}") for i, lab in enumerate(y)]
    hashes: list[str | None] = [f"h{i}" for i in range(len(items))]
    vectors = x.copy()
    hashes[5] = hashes[4]  # exact duplicate inside class 0: one copy goes
    vectors[20] = vectors[19] * 0.9999 + 0.0001  # near duplicate in class 1: one copy goes
    rng = np.random.default_rng(9)
    out = rng.standard_normal(32).astype(np.float32)
    vectors[30] = out / np.linalg.norm(out)  # an outlier in class 2
    items += [Item("/d/rare/1.jpg", "rare", "rare"), Item("/d/rare/2.jpg", "rare", "rare")]
    vectors = np.concatenate([vectors, x[:2] * -1])
    hashes += ["r1", "r2"]
    corrupt = {3: "truncated or corrupt"}
    keep, rep = clean(items, Embedded(vectors, hashes, corrupt), missing=2, min_count=5)
    assert (rep.corrupt, rep.exact_duplicates, rep.near_duplicates, rep.outliers) == (1, 1, 1, 1)
    assert rep.small_classes == 1 and rep.small_class_images == 2 and rep.missing == 2
    assert 30 not in keep and 3 not in keep and not ({4, 5} <= set(keep.tolist()))
    assert rep.kept_images == len(keep) == 36 - 4 and rep.kept_classes == 3


def test_duplicates_with_different_labels_are_all_dropped() -> None:
    x, y = clusters_data(2, 12, spread=0.4)
    items = [Item(f"/d/{i}.jpg", f"L{lab}", "") for i, lab in enumerate(y)]
    hashes: list[str | None] = [f"h{i}" for i in range(len(items))]
    hashes[20] = hashes[0]  # the same bytes filed under both classes: the label is unknowable
    keep, rep = clean(items, Embedded(x, hashes, {}), missing=0, min_count=2)
    assert 0 not in keep and 20 not in keep and rep.exact_duplicates == 2


def _img(seed: int) -> bytes:
    buf = io.BytesIO()
    noise_image(seed, (40, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_reads_gldv2_layout(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("id,url,landmark_id\nabc123,x,7\nabd456,x,7\nfff000,x,9\n")
    (tmp_path / "train_label_to_category.csv").write_text(
        "landmark_id,category\n7,http://commons.wikimedia.org/wiki/Category:Eiffel_Tower\n9,Category:Big_Ben\n")
    for i, img in enumerate(("abc123", "abd456")):
        p = tmp_path / "train" / img[0] / img[1] / img[2] / f"{img}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(_img(i))
    ds = read_dataset(tmp_path)
    assert ds.format == "gldv2" and [it.name for it in ds.items] == ["Eiffel Tower", "Eiffel Tower"]
    assert len(ds.missing) == 1 and ds.missing[0].endswith("fff000.jpg")


def test_train_and_eval_commands_on_an_imagefolder(tmp_path: Path, tiny_models: Path, capsys) -> None:
    from organizer.cli import main

    data = tmp_path / "data"
    for c, name in enumerate(("Category:Eiffel_Tower", "Big_Ben", "Colosseum")):
        (data / name).mkdir(parents=True)
        for i in range(12):
            (data / name / f"{i}.jpg").write_bytes(_img(100 * c + i))
    (data / "Colosseum" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    shutil.copy(data / "Big_Ben" / "0.jpg", data / "Big_Ben" / "copy.jpg")
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps({"ocr": {"enabled": False}}))
    args = ["--library", str(tmp_path / "lib"), "--models", str(tiny_models), "--settings", str(settings)]
    # the tiny random CLIP puts all these images within 0.02 of each other: near-duplicate removal off
    assert main(["landmarks", "train", str(data), "--epochs", "30", "--near-duplicates", "0", "--json", *args]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cleaning"]["corrupt"] == 1 and out["cleaning"]["exact_duplicates"] >= 1
    head = tmp_path / "lib" / "heads" / "landmarks"
    assert (head / "head.safetensors").is_file() and (head / "split.json").is_file()
    labels = json.loads((head / "labels.json").read_text())
    assert {c["name"] for c in labels["classes"]} <= {"Eiffel Tower", "Big Ben", "Colosseum"}
    split_test = json.loads((head / "split.json").read_text())["splits"]["test"]
    neg = tmp_path / "neg"
    neg.mkdir()
    for i in range(3):
        (neg / f"{i}.jpg").write_bytes(_img(900 + i))
    assert main(["landmarks", "eval", str(data), "--negatives", str(neg), "--json", *args]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["images"] == len(split_test) and ev["negatives"] == 3 and 0 <= ev["top1"] <= ev["top5"] <= 1
    assert main(["landmarks", "eval", str(tmp_path), *args]) == 2  # not the data it was trained on


def test_unfreezing_trains_the_last_clip_block_and_ties_the_head_to_it(tmp_path: Path, tiny_models: Path) -> None:
    import torch
    from safetensors.torch import load_file

    from organizer.models.clip import ClipModel
    from organizer.training.landmarks import TrainOutcome, train_landmarks

    data = tmp_path / "data"
    for c in range(2):
        (data / f"class{c}").mkdir(parents=True)
        for i in range(10):
            (data / f"class{c}" / f"{i}.jpg").write_bytes(_img(50 * c + i))
    clip = ClipModel("tiny", tiny_models / "clip", precision="fp32")
    out = tmp_path / "head"
    events = list(train_landmarks(data, out, clip, TrainConfig(max_epochs=3, lr=1e-2), min_count=5,
                                  near_duplicate=0.0, unfreeze=1))
    outcome = events[-1]
    assert isinstance(outcome, TrainOutcome)
    tuned = ClipModel("t", out / "clip")
    assert outcome.result.head.clip_model == tuned.key != clip.key
    before = load_file(str(tiny_models / "clip" / "model.safetensors"))
    after = load_file(str(out / "clip" / "model.safetensors"))
    last = [k for k in before if "vision_model.encoder.layers.1." in k]
    first = [k for k in before if "vision_model.encoder.layers.0." in k]
    assert any(not torch.equal(before[k], after[k]) for k in last)  # the unfrozen block learnt
    assert all(torch.equal(before[k], after[k]) for k in first)  # the frozen one did not
    assert LandmarkHead.load(out).clip_model == tuned.key
