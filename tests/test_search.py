from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from organizer.library import Library
from organizer.search.engine import SearchQuery, parse_weights
from organizer.search.index import VectorIndex
from organizer.search.keywords import query_tokens
from organizer.search.ranking import rank, row_scores
from organizer.settings import SearchSettings
from tests.conftest import text_image

CAL = {"text>image": (0.0, 1.0), "text>text": (0.0, 1.0), "image>image": (0.0, 1.0), "image>text": (0.0, 1.0)}


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs + (0.0,) * (4 - len(xs)), np.float32)
    return v / np.linalg.norm(v)


def index_of(rows: list[tuple[int, int, str, str, np.ndarray]]) -> VectorIndex:
    """rows: (part_id, photo_id, type, modality, vector)."""
    idx = VectorIndex(None, "test", dtype="fp32")  # type: ignore[arg-type]
    idx.add_arrays(np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), [r[2] for r in rows],
                   [r[3] for r in rows], np.stack([r[4] for r in rows]))
    return idx


def search(idx: VectorIndex, q: np.ndarray, weights: dict[str, float] | None = None, top: int = 10,
           threshold: float = -10.0, cal: dict = CAL, modality: str = "image", keyword: dict | None = None):
    raw = idx.similarities(q)
    scores = row_scores(idx, raw, modality, weights or {}, cal)
    return rank(idx, scores, raw, top, threshold, keyword)


@pytest.fixture
def idx() -> VectorIndex:
    return index_of([
        (1, 10, "whole", "image", unit(1, 0.2)),     # photo 10: close as a whole
        (2, 20, "whole", "image", unit(0.2, 1)),     # photo 20: far as a whole...
        (3, 20, "person", "image", unit(1, 0.5)),    # ...but holds a person close to the query
        (4, 30, "whole", "image", unit(0, 0, 1)),    # photo 30: unrelated
        (5, 30, "vehicle", "image", unit(1, 0.6)),   # ...with a vehicle somewhat close
    ])


def test_photo_score_is_its_best_part_and_photos_are_unique(idx: VectorIndex) -> None:
    res = search(idx, unit(1))
    assert [r.photo_id for r in res] == [10, 20, 30]
    assert res[1].parts[0].type == "person" and res[1].score == pytest.approx(float(unit(1, 0.5)[0]), abs=2e-3)


def test_weights_reorder_results(idx: VectorIndex) -> None:
    res = search(idx, unit(1), weights={"person": 2.0})
    assert [r.photo_id for r in res][0] == 20
    res = search(idx, unit(1), weights={"vehicle": 3.0, "person": 0.5})
    assert [r.photo_id for r in res][0] == 30 and res[0].parts[0].type == "vehicle"


def test_weight_zero_leaves_a_type_out(idx: VectorIndex) -> None:
    res = search(idx, unit(1), weights={"whole": 0.0})
    assert [r.photo_id for r in res] == [20, 30]  # photo 10 has only a whole part
    assert all(p.type != "whole" for r in res for p in r.parts)


def test_threshold_and_top_k(idx: VectorIndex) -> None:
    assert [r.photo_id for r in search(idx, unit(1), threshold=0.87)] == [10, 20]
    assert [r.photo_id for r in search(idx, unit(1), top=1)] == [10]


def test_per_modality_calibration_lifts_cross_modal_matches() -> None:
    idx = index_of([(1, 1, "whole", "image", unit(1, 3.6)),   # raw ~0.27 from a text query: a good match
                    (2, 2, "text", "text", unit(1, 1.4))])    # raw ~0.58 text-to-text: a weak one
    raw_order = [r.photo_id for r in search(idx, unit(1), modality="text")]
    assert raw_order == [2, 1]
    cal = {"text>image": (0.1, 0.35), "text>text": (0.5, 1.0)}
    assert [r.photo_id for r in search(idx, unit(1), modality="text", cal=cal)] == [1, 2]


def test_keyword_matches_are_blended_in(idx: VectorIndex) -> None:
    res = search(idx, unit(1), keyword={30: 0.5})
    assert [r.photo_id for r in res] == [10, 30, 20]  # the keyword lifts 30 over 20, whose vector is closer
    assert res[1].keyword_score == 0.5


def test_empty_index() -> None:
    idx = VectorIndex(None, "test", dtype="fp32")  # type: ignore[arg-type]
    assert search(idx, unit(1)) == []


def test_half_precision_index_ranks_like_fp32() -> None:
    rng = np.random.default_rng(0)
    m = rng.normal(size=(2000, 64)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    q = m[7] + 0.1 * rng.normal(size=64).astype(np.float32)
    q /= np.linalg.norm(q)
    ranks = {}
    for dt in ("fp32", "bf16", "int8"):
        idx = VectorIndex(None, "t", dtype=dt)  # type: ignore[arg-type]
        idx.add_arrays(np.arange(2000), np.arange(2000), ["whole"] * 2000, ["image"] * 2000, m)
        ranks[dt] = [r.photo_id for r in search(idx, q, top=5)]
    assert ranks["fp32"][0] == ranks["bf16"][0] == ranks["int8"][0] == 7
    assert len(set(ranks["fp32"]) & set(ranks["bf16"])) >= 4
    assert len(set(ranks["fp32"]) & set(ranks["int8"])) >= 4


def test_a_large_index_turns_int8_a_quarter_of_the_memory_same_scores(monkeypatch) -> None:
    """Past INT8_FROM rows the CPU index keeps int8 rows in blocks (a million photos in 2.6 GB instead of
    10 GB); each similarity stays within 0.01 of float32's and a photo's own vector still finds it first."""
    from organizer.search import index as index_module

    monkeypatch.setattr(index_module, "INT8_FROM", 300)
    monkeypatch.setattr(index_module, "BLOCK", 128)
    rng = np.random.default_rng(3)
    m = rng.normal(size=(500, 512)).astype(np.float32)
    m[:, 7] += 3.0  # an outlier dimension, as CLIP's embeddings have
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    idx = VectorIndex(None, "t")  # type: ignore[arg-type]
    for start in range(0, 500, 100):  # synced in batches, as from the store
        idx.add_arrays(np.arange(start, start + 100), np.arange(start, start + 100), ["whole"] * 100,
                       ["image"] * 100, m[start : start + 100].astype(np.float16))
        assert idx.dtype_name == ("fp32 (numpy)" if start + 100 < 300 else "int8 (numkong)")
    assert len(idx) == 500 and idx.nbytes() < 500 * 512 * 4 / 3
    for i in (0, 123, 299, 300, 499):
        sims = idx.similarities(m[i])
        assert len(sims) == 500 and np.abs(sims - m @ m[i]).max() < 0.01
        assert [r.photo_id for r in search(idx, m[i], top=1)] == [i]


def test_unknown_index_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="int8"):
        VectorIndex(None, "t", dtype="int4")  # type: ignore[arg-type]


def test_query_tokens() -> None:
    assert query_tokens("A photo of the Café in Paris") == ["cafe", "paris"]


def test_parse_weights_errors() -> None:
    from organizer.errors import BadArgumentError

    assert parse_weights("person=2, vehicle=0.5") == {"person": 2.0, "vehicle": 0.5}
    for bad in ("person", "dog=1", "person=x", "person=-1"):
        with pytest.raises(BadArgumentError):
            parse_weights(bad)


def test_search_settings_reject_unknown_types() -> None:
    with pytest.raises(ValueError):
        SearchSettings(weights={"dragon": 1.0})


# ---- through the real pipeline with tiny models -----------------------------------------------

def test_image_query_finds_the_same_photo_first(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    list(lib.index([str(photo_dir)], parts=False))
    res = lib.search(SearchQuery(image=str(photo_dir / "coffee.jpg"), top_k=2))
    assert res[0].path == str(photo_dir / "coffee.jpg") and res[0].score == pytest.approx(1.0, abs=0.02)


def test_folder_names_are_searchable_words(make_settings, photo_dir: Path) -> None:
    paris = photo_dir / "Paris 2019"
    paris.mkdir()
    (photo_dir / "coffee.jpg").rename(paris / "IMG_0001.jpg")
    lib = Library(make_settings())
    list(lib.index([str(photo_dir)], parts=False))
    res = lib.search(SearchQuery(text="paris", top_k=4))
    assert res[0].path == str(paris / "IMG_0001.jpg") and res[0].keyword_score > 0
    assert all(r.keyword_score == 0 for r in res[1:])


def test_index_follows_new_photos_between_queries(make_settings, photo_dir: Path) -> None:
    lib = Library(make_settings())
    list(lib.index([str(photo_dir / "trip")], parts=False))
    assert len(lib.search(SearchQuery(text="anything", threshold=-100, top_k=50))) == 2
    list(lib.index([str(photo_dir)], parts=False))
    assert len(lib.search(SearchQuery(text="anything", threshold=-100, top_k=50))) == 4
    lib.forget([str(photo_dir / "trip")])
    assert len(lib.search(SearchQuery(text="anything", threshold=-100, top_k=50))) == 2


@pytest.mark.parametrize("engine", ["easyocr", "rapidocr"])
def test_ocr_text_is_found_by_keyword(make_settings, tmp_path: Path, engine: str) -> None:
    """Real OCR weights read a rendered sign; typing a word of it finds the photo with its box."""
    folder = tmp_path / "signs"
    folder.mkdir()
    text_image("CAFE ROMA").save(folder / "a.png")
    text_image("BAKERY").save(folder / "b.png")
    lib = Library(make_settings(ocr={"enabled": True, "gate": "none", "engine": engine}, detection={"enabled": False}))
    assert lib.models.ocr.name == engine
    summary = list(lib.index([str(folder)]))[-1]
    assert summary.text_found >= 2
    res = lib.search(SearchQuery(text="cafe", top_k=5))
    assert Path(res[0].path).name == "a.png" and res[0].keyword_score > 0
    assert all(r.keyword_score == 0 for r in res[1:])
    texts = [p for p in lib.store.parts_of(res[0].photo_id) if p.type == "text"]
    assert any("CAFE" in (p.text or "").upper() for p in texts)
    box = texts[0].box
    assert 0 <= box[0] < box[2] <= 1 and 0 <= box[1] < box[3] <= 1


def test_scores_stay_within_the_thresholds_range(idx: VectorIndex) -> None:
    """A keyword match no longer pushes a score above 1 (it sat beside a 0..1 threshold): it closes part of
    the gap to 1, so a photo matching words and image ranks first, and every score is at most 1."""
    res = search(idx, unit(1), keyword={10: 0.5, 30: 0.5})
    assert all(r.score <= 1.0 for r in res)
    assert res[0].photo_id == 10 and res[0].score > res[1].score  # both matches beat the keyword alone
    # similarities above the calibrated range, and weights above 1, bend towards 1 above 0.95 without passing it
    res = search(idx, unit(1), weights={"person": 3.0, "vehicle": 2.0}, cal={"image>image": (0.5, 0.8)})
    assert [r.photo_id for r in res] == [20, 30, 10] and all(r.score < 1.0 for r in res)  # 3.9, 2.4, 1.6
    assert res[0].score > res[1].score > res[2].score > 0.95
    below = search(idx, unit(1), cal={"image>image": (0.0, 1.0)})  # within the range: scores are the similarity
    assert below[1].score == pytest.approx(float(unit(1, 0.5)[0]), abs=2e-3)


def test_places_from_gps_are_shown_and_searchable(make_settings) -> None:
    """GPS in words, offline (GeoNames via reverse-geocode): the photo window says where, and "Lisbon" or
    "Japan" finds the photos taken there by keyword."""
    from organizer.library import Library
    from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo

    lib = Library(make_settings())
    rng = np.random.default_rng(3)
    spots = {"lisbon": (38.7223, -9.1393), "tokyo": (35.6895, 139.6917), "eiffel": (48.8584, 2.2945),
             "sea": (0.0, -30.0), "nogps": None}
    photos = []
    for i, (name, gps) in enumerate(spots.items()):
        v = rng.standard_normal(32).astype(np.float32)
        photos.append(NewPhoto(FileRef(f"/p/{name}.jpg", 1, 1),
                               PhotoInfo(f"h{i}", 1, "JPEG", 8, 8, gps_lat=gps[0] if gps else None,
                                         gps_lon=gps[1] if gps else None),
                               NewPart("whole", v / np.linalg.norm(v), "image")))
    ids = dict(zip(spots, lib.store.add_photos(photos, lib.models.clip.key), strict=True))
    summary = [e for e in lib.index([], parts=False)][-1]
    assert summary.places == 3  # out at sea: no place near; no GPS: nothing to look up
    assert lib.photo_details(ids["lisbon"]).place == "Lisbon, Portugal"
    assert lib.photo_details(ids["eiffel"]).place == "Paris, France"
    assert lib.photo_details(ids["sea"]).place is None and lib.photo_details(ids["nogps"]).place is None
    for query, where in (("Lisbon", "lisbon"), ("Japan", "tokyo"), ("paris", "eiffel")):
        res = lib.search(SearchQuery(text=query, top_k=5, threshold=-10))
        assert [r.photo_id for r in res if r.keyword_score > 0] == [ids[where]], query  # (random CLIP ranks)
    assert not [e for e in lib.index([], parts=False) if getattr(e, "phase", "") == "places"]  # looked up once
