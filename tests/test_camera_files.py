"""Camera files: RAW (DNGs made here; the other formats are LibRaw's), sidecars, bad RAWs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from organizer.library import Library
from organizer.media.decode import SkipError, load
from organizer.media.dng import write_dng
from organizer.search.engine import SearchQuery
from tests.conftest import text_image


def _halves(h: int = 480, w: int = 640) -> np.ndarray:
    """Left half red, right half blue: which way up a picture is shows."""
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, : w // 2] = (210, 40, 40)
    rgb[:, w // 2:] = (40, 40, 210)
    return rgb


def _reddish(px: tuple[int, ...]) -> bool:
    return px[0] > px[2] + 60


def test_a_dng_is_decoded_from_its_preview_upright_with_its_metadata(tmp_path: Path) -> None:
    """The embedded JPEG preview serves indexing (no demosaic); the RAW's orientation is applied once; camera,
    date and GPS come from the RAW's own metadata; the photo's size is the sensor's, upright."""
    preview = _halves(960, 1280)
    preview[:, :640] = (40, 200, 40)  # green where the sensor saw red: which picture was decoded shows
    path = write_dng(tmp_path / "IMG_0001.DNG", _halves(), preview, orientation=6, gps=(43.4633, 11.8796),
                     lens="FE 24-70mm F2.8 GM II")
    r = load(str(path), min_side=224)
    meta = r.decoded.meta
    assert (meta.format, meta.width, meta.height) == ("DNG", 480, 640)  # turned by the orientation
    assert (meta.camera_make, meta.camera_model, meta.lens) == ("Organizer", "Test Camera", "FE 24-70mm F2.8 GM II")
    assert str(meta.taken_at) == "2024-05-17 09:30:00"
    assert meta.gps_lat == pytest.approx(43.4633, abs=1e-3) and meta.gps_lon == pytest.approx(11.8796, abs=1e-3)
    im = r.image
    assert im.size == (240, 320)  # the preview (1280x960) decoded at a quarter (draft), turned upright once
    top, bottom = im.getpixel((120, 10)), im.getpixel((120, 310))
    assert top[1] > top[0] + 60 and bottom[2] > bottom[1] + 60  # the preview's green on top after the turn


def test_a_dng_without_a_large_preview_is_demosaiced(tmp_path: Path) -> None:
    """A tiny thumbnail is not enough for the detector: LibRaw demosaics, at half size for indexing and at full
    size where the viewer asks for the photo's own pixels; the colours are the scene's."""
    path = write_dng(tmp_path / "small.dng", _halves())
    half = load(str(path), min_side=224).image
    full = load(str(path)).image
    assert half.size == (320, 240) and full.size == (640, 480)
    for im in (half, full):
        assert _reddish(im.getpixel((10, im.height // 2)))
        assert not _reddish(im.getpixel((im.width - 10, im.height // 2)))


def test_raw_files_are_indexed_with_plain_photos_and_bad_ones_are_skipped(make_settings, tmp_path: Path) -> None:
    """A folder as a camera leaves it: a DNG with its XMP sidecar, a JPEG, a truncated DNG and a text file
    named .dng. The DNG is a photo with its date, camera and lens (the JPEG's lens too); the sidecar is no skipped
    file; the bad ones are skipped with their reasons and the run goes on."""
    folder = tmp_path / "card"
    folder.mkdir()
    good = write_dng(folder / "DSC_0001.dng", _halves(), _halves(960, 1280), orientation=1, lens="XF23mmF1.4 R")
    (folder / "DSC_0001.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA434] = "iPhone 15 back camera 6.86mm f/1.78"
    Image.fromarray(_halves()).save(folder / "other.jpg", exif=exif)
    data = good.read_bytes()
    (folder / "cut.dng").write_bytes(data[:8] + b"\x00" * 64)  # a header, then nothing LibRaw can read
    (folder / "notes.dng").write_text("not a raw file at all")
    lib = Library(make_settings())
    summary = list(lib.index([str(folder)]))[-1]
    assert summary.new == 2 and summary.skipped == 2
    status = lib.status()
    skipped = {Path(f.path).name: f.reason for f in status.skipped_files}
    assert set(skipped) == {"cut.dng", "notes.dng"}  # never the sidecar
    rows = {Path(r.path).name: r for r in lib.photo_rows()}
    assert set(rows) == {"DSC_0001.dng", "other.jpg"}
    assert rows["DSC_0001.dng"].taken_at is not None and str(rows["DSC_0001.dng"].taken_at).startswith("2024-05-17")
    details = lib.photo_details(rows["DSC_0001.dng"].id)
    assert details is not None and "Test Camera" in (details.camera or "") and details.format == "DNG"
    assert (details.width, details.height, details.lens) == (640, 480, "XF23mmF1.4 R")
    other = lib.photo_details(rows["other.jpg"].id)
    assert other is not None and other.lens == "iPhone 15 back camera 6.86mm f/1.78"
    lib.close()


def test_a_word_on_a_sign_in_a_raw_is_found_by_search(make_settings, tmp_path: Path) -> None:
    """Real OCR (RapidOCR's weights) reads a sign in a RAW's preview and in a RAW demosaiced by LibRaw."""
    folder = tmp_path / "signs"
    folder.mkdir()
    sign = np.asarray(text_image("CAFE ROMA", (900, 300)).resize((1200, 400)))
    write_dng(folder / "preview.dng", np.zeros((200, 600, 3), np.uint8), preview=sign)
    other = np.asarray(text_image("BAKERY", (900, 300)).resize((1200, 400)))
    write_dng(folder / "mosaic.dng", other)  # no preview: demosaiced
    lib = Library(make_settings(ocr={"enabled": True, "gate": "none", "engine": "rapidocr"},
                                detection={"enabled": False}))
    list(lib.index([str(folder)]))
    for word, name in (("cafe", "preview.dng"), ("bakery", "mosaic.dng")):
        res = lib.search(SearchQuery(text=word, top_k=5))
        assert Path(res[0].path).name == name and res[0].keyword_score > 0, (word, [r.path for r in res])
    lib.close()


def test_a_plain_tiff_is_still_a_tiff(tmp_path: Path) -> None:
    """A TIFF is offered to LibRaw first (many RAWs are TIFFs); a plain one goes on to Pillow."""
    Image.fromarray(_halves()).save(tmp_path / "scan.tif")
    r = load(str(tmp_path / "scan.tif"), min_side=224)
    assert r.decoded.meta.format == "TIFF" and r.image.size == (640, 480)
    with pytest.raises(SkipError):
        (tmp_path / "fake.dng").write_bytes(b"II*\x00" + b"\x00" * 100)
        load(str(tmp_path / "fake.dng"))


def _card_with_a_pair(folder: Path) -> tuple[Path, Path]:
    folder.mkdir()
    raw = write_dng(folder / "DSC_0001.DNG", _halves(), _halves(960, 1280))
    jpeg = folder / "dsc_0001.jpg"
    Image.fromarray(_halves()).save(jpeg, quality=90)
    return raw, jpeg


def test_a_raw_and_the_jpeg_of_one_shot_are_one_photo_with_both_files(make_settings, tmp_path: Path) -> None:
    """Same folder, same name in another case: one photo, shown by its JPEG, the RAW kept as its file; a second
    scan reads neither again; a RAW on its own is a photo of its own."""
    raw, jpeg = _card_with_a_pair(tmp_path / "card")
    write_dng(tmp_path / "card" / "DSC_0002.dng", _halves(), _halves(960, 1280))  # no JPEG of it
    lib = Library(make_settings())
    summary = list(lib.index([str(tmp_path / "card")]))[-1]
    assert (summary.new, summary.paired, summary.skipped) == (2, 1, 0)
    rows = {Path(r.path).name: r.id for r in lib.photo_rows()}
    assert set(rows) == {"dsc_0001.jpg", "DSC_0002.dng"}
    details = lib.photo_details(rows["dsc_0001.jpg"])
    assert details is not None and {Path(p).name for p in details.paths} == {"dsc_0001.jpg", "DSC_0001.DNG"}
    assert details.format == "JPEG"
    again = list(lib.index([str(tmp_path / "card")]))[-1]
    assert (again.new, again.paired, again.unchanged) == (0, 0, 3)
    lib.close()


def test_forgetting_either_file_of_a_pair_keeps_the_photo_with_the_other(make_settings, tmp_path: Path) -> None:
    """Forget the JPEG: the photo stays, with its label, shown and read from the RAW (a later pass does not take
    the RAW for a changed file); forget the RAW instead: the JPEG stays."""
    raw, jpeg = _card_with_a_pair(tmp_path / "card")
    lib = Library(make_settings())
    list(lib.index([str(tmp_path / "card")], parts=False))
    (pid,) = [r.id for r in lib.photo_rows()]
    lib.label_photos("Holiday", [pid])
    lib.forget([str(jpeg)])
    rows = lib.photo_rows()
    assert [(r.id, Path(r.path).name) for r in rows] == [(pid, "DSC_0001.DNG")]
    summary = list(lib.index([str(tmp_path / "card")], parts=True))[-1]  # the parts pass reads the RAW
    assert summary.new == 0 and summary.failed == 0 and summary.parts_done == 1
    assert [r.id for r in lib.photo_rows()] == [pid] and lib.label_photo_ids("Holiday") == [pid]
    lib.close()

    other = tmp_path / "other"
    raw2, jpeg2 = _card_with_a_pair(other)
    lib2 = Library(make_settings(library=str(tmp_path / "lib2")))
    list(lib2.index([str(other)], parts=False))
    lib2.forget([str(raw2)])
    assert [Path(r.path).name for r in lib2.photo_rows()] == ["dsc_0001.jpg"]
    lib2.close()


def test_a_raw_whose_jpeg_cannot_be_read_is_a_photo_of_its_own(make_settings, tmp_path: Path) -> None:
    folder = tmp_path / "card"
    folder.mkdir()
    write_dng(folder / "IMG_7.CR2.dng", _halves())  # not a pair: another name
    write_dng(folder / "IMG_8.dng", _halves(), _halves(960, 1280))
    (folder / "IMG_8.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 40)  # a JPEG cut off at its start
    lib = Library(make_settings())
    summary = list(lib.index([str(folder)], parts=False))[-1]
    assert (summary.new, summary.paired, summary.skipped) == (2, 0, 1)
    assert {Path(r.path).name for r in lib.photo_rows()} == {"IMG_7.CR2.dng", "IMG_8.dng"}
    lib.close()


# ---- videos ------------------------------------------------------------------------------------

def _scene(t: float) -> np.ndarray:
    """Red on the left for the first 15 s, then green: two scenes."""
    f = np.zeros((240, 320, 3), np.uint8)
    if t < 15:
        f[:, :160] = (210, 40, 40)
    else:
        f[:] = (30, 170, 60)
    return f


def test_a_video_is_read_upright_with_its_date_place_and_length(tmp_path: Path) -> None:
    """The rotation in the track header turns the poster frame upright; the date (UTC in the movie header) and
    GPS (Apple's box) come from the container; the file is hashed in a stream (BLAKE3)."""
    from datetime import UTC, datetime

    from blake3 import blake3

    from organizer.media.mp4 import write_video

    path = write_video(tmp_path / "clip.mp4", 30, _scene, rotation=90, created=datetime(2023, 7, 1, 12, 0, tzinfo=UTC),
                       gps=(38.7223, -9.1393))
    r = load(str(path), min_side=224)
    meta = r.decoded.meta
    assert (meta.format, meta.width, meta.height, meta.duration) == ("MP4", 240, 320, 30.0)
    assert meta.taken_at == datetime(2023, 7, 1, 12, 0, tzinfo=UTC).astimezone().replace(tzinfo=None)
    assert (round(meta.gps_lat, 4), round(meta.gps_lon, 4)) == (38.7223, -9.1393)
    assert r.hash == blake3(path.read_bytes()).hexdigest(length=16) and r.size == path.stat().st_size
    assert _reddish(r.image.getpixel((120, 10))) and not _reddish(r.image.getpixel((120, 310)))  # turned upright


def _pq_code(nits: float) -> float:
    """SMPTE ST 2084's inverse EOTF: nits to a PQ coded value (0..1)."""
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = (nits / 10000.0) ** m1
    return float(((c1 + c2 * y) / (1 + c3 * y)) ** m2)


def test_hdr_clips_are_shown_in_sdr(tmp_path: Path) -> None:
    """A phone's HDR clip (PQ as HDR10 cameras film, HLG as an iPhone does; BT.2020) is brought to SDR for CLIP
    and thumbnails by the decoder's colour management, from the colour tags in the container: HDR's reference
    white (203 nits; HLG's 75%) is shown as white, where its coded values read as SDR are a flat grey."""
    from organizer.media.mp4 import write_video

    for name, colour, code in (("pq", (9, 16, 9), round(_pq_code(203) * 255)), ("hlg", (9, 18, 9), 191)):
        frame = np.full((240, 320, 3), code, np.uint8)
        frame[:, :80] = 64  # a shadow stays a shadow
        hdr = load(str(write_video(tmp_path / f"{name}.mp4", 3, lambda t, f=frame: f, colour=colour)),
                   min_side=224).image
        flat = load(str(write_video(tmp_path / f"{name}-untagged.mp4", 3, lambda t, f=frame: f)),
                    min_side=224).image
        assert min(hdr.getpixel((240, 120))) >= 235, name
        assert abs(flat.getpixel((240, 120))[1] - code) <= 8, name
        assert 40 <= hdr.getpixel((40, 120))[1] <= 110, name


def test_videos_are_indexed_with_their_frames_and_bad_ones_are_skipped(make_settings, tmp_path: Path) -> None:
    """A folder as a phone leaves it: a video, a photo, a video cut in half and a text file named .mp4. The video
    is an item with its length; its frames (one per 10 s, the still scene's twin left out) are embedded at their
    times; a search by one of its frames names where in the clip it is; the bad files are skipped with reasons."""
    from organizer.media.mp4 import write_video
    from organizer.media.video import video_frames

    folder = tmp_path / "phone"
    folder.mkdir()
    video = write_video(folder / "VID_0001.mp4", 40, _scene)
    Image.fromarray(_halves()).save(folder / "IMG_0002.jpg")
    data = video.read_bytes()
    (folder / "cut.mp4").write_bytes(data[: len(data) // 2])  # the index (moov) is at the end: gone
    (folder / "notes.mp4").write_text("not a video")
    lib = Library(make_settings())
    summary = list(lib.index([str(folder)], parts=False))[-1]
    assert (summary.new, summary.skipped) == (2, 2)
    reasons = {Path(f.path).name: f.reason for f in lib.status().skipped_files}
    assert reasons == {"cut.mp4": "truncated or corrupt", "notes.mp4": "not an image"}
    rows = {Path(r.path).name: r for r in lib.photo_rows()}
    assert rows["VID_0001.mp4"].duration == 40.0 and rows["IMG_0002.jpg"].duration is None
    details = lib.photo_details(rows["VID_0001.mp4"].id)
    assert details is not None and details.duration == 40.0
    frames = sorted(p.at_seconds for p in details.parts if p.type == "frame")
    # one per 10 s spread over the clip (8, 16, 24, 32 s), the still scene's twins (24 and 32 s) left out
    assert frames == [8.0, 16.0] and summary.frames_found == 2
    # a search by the frame at 16 s finds the video there (the same pixels give the same vector)
    t, im = [f for f in video_frames(str(video), 40.0, 448) if f[0] == 16.0][0]
    im.save(tmp_path / "query.png")
    res = lib.search(SearchQuery(image=str(tmp_path / "query.png"), top_k=3, threshold=-10.0))
    assert Path(res[0].path).name == "VID_0001.mp4"
    assert res[0].parts and res[0].parts[0].type == "frame" and res[0].parts[0].at_seconds == 16.0
    again = list(lib.index([str(folder)], parts=False))[-1]
    assert (again.new, again.frames_found) == (0, 0)
    lib.close()


def test_a_word_on_a_sign_in_a_video_is_found_by_search(make_settings, tmp_path: Path) -> None:
    """Real OCR reads a sign in a video's poster frame; typing the word finds the video."""
    from organizer.media.mp4 import write_video

    folder = tmp_path / "clips"
    folder.mkdir()
    sign = np.asarray(text_image("CAFE ROMA", (900, 300)).resize((640, 214)).crop((0, 0, 640, 214)))
    canvas = np.full((240, 640, 3), 255, np.uint8)
    canvas[13:227] = sign
    write_video(folder / "street.mp4", 4, lambda t: canvas, size=(640, 240))
    write_video(folder / "plain.mp4", 4, _scene)
    lib = Library(make_settings(ocr={"enabled": True, "gate": "none", "engine": "rapidocr"},
                                detection={"enabled": False}))
    list(lib.index([str(folder)]))
    res = lib.search(SearchQuery(text="cafe", top_k=5))
    assert Path(res[0].path).name == "street.mp4" and res[0].keyword_score > 0
    lib.close()


def test_a_live_photo_is_one_item_and_its_clip_no_video_of_its_own(make_settings, tmp_path: Path) -> None:
    """A still with its motion clip of the same name: one item shown by the still, the clip kept as its file."""
    from organizer.media.mp4 import write_video

    folder = tmp_path / "iphone"
    folder.mkdir()
    Image.fromarray(_halves()).save(folder / "IMG_0005.JPG")
    write_video(folder / "IMG_0005.MOV", 3, _scene)
    write_video(folder / "IMG_0006.MOV", 3, _scene)  # a video of its own
    lib = Library(make_settings())
    summary = list(lib.index([str(folder)], parts=False))[-1]
    assert (summary.new, summary.paired) == (2, 1)
    rows = {Path(r.path).name: r.id for r in lib.photo_rows()}
    assert set(rows) == {"IMG_0005.JPG", "IMG_0006.MOV"}
    details = lib.photo_details(rows["IMG_0005.JPG"])
    assert details is not None and {Path(p).name for p in details.paths} == {"IMG_0005.JPG", "IMG_0005.MOV"}
    # the photo pane plays the clip kept with the still
    assert details.motion_path is not None and lib.motion_clip(rows["IMG_0005.JPG"]) == str(folder / "IMG_0005.MOV")
    lib.close()


def _iphone_still(path: Path, content_id: str) -> Path:
    """A HEIC or JPEG as an iPhone's Live Photo still: Apple's maker note with its content identifier (0x0011)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    import struct

    text = content_id.encode() + b"\x00"
    ifd = struct.pack(">H", 1) + struct.pack(">HHII", 0x0011, 2, len(text), 32) + struct.pack(">I", 0)
    note = b"Apple iOS\x00" + b"\x00\x01" + b"MM" + ifd + text  # value offsets count from the note's start
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 15"
    exif.get_ifd(0x8769)[0x927C] = note
    Image.fromarray(_halves()).save(path, exif=exif)
    return path


def test_a_live_photo_renamed_apart_pairs_by_its_content_identifier(make_settings, tmp_path: Path) -> None:
    """A Live Photo exported or copied apart (the clip numbered "IMG_0007 (2).MOV") is still one item: the clip
    and the still carry the same content identifier. A still with another identifier, or a clip with none, stays
    an item of its own."""
    from organizer.media.mp4 import write_video

    folder = tmp_path / "export"
    folder.mkdir()
    _iphone_still(folder / "IMG_0007.HEIC", "6F1C3B2A-0D4E-4C7B-9A51-1E2F3A4B5C6D")
    write_video(folder / "IMG_0007 (2).MOV", 3, _scene, content_id="6F1C3B2A-0D4E-4C7B-9A51-1E2F3A4B5C6D")
    _iphone_still(folder / "IMG_0008.JPG", "0B8E1D7C-5F2A-4E3B-8C6D-7A9B1C2D3E4F")
    write_video(folder / "clip.MOV", 3, _scene)  # a video of its own
    lib = Library(make_settings())
    summary = list(lib.index([str(folder)], parts=False))[-1]
    assert (summary.new, summary.paired) == (3, 1)
    rows = {Path(r.path).name: r.id for r in lib.photo_rows()}
    assert set(rows) == {"IMG_0007.HEIC", "IMG_0008.JPG", "clip.MOV"}
    assert lib.motion_clip(rows["IMG_0007.HEIC"]) == str(folder / "IMG_0007 (2).MOV")
    assert lib.motion_clip(rows["IMG_0008.JPG"]) is None
    lib.close()


def test_a_video_over_the_photo_size_limit_is_read_in_a_stream(tmp_path: Path) -> None:
    """A video larger than a photo may be (1 GB) is hashed in a stream and decoded frame by frame: Python's
    memory stays a few MB, never the file's size (a sparse file: no disk is used)."""
    import os
    import tracemalloc

    from organizer.media.mp4 import write_video

    path = write_video(tmp_path / "long.mp4", 4, _scene)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) + 1_100_000_000)  # trailing zeros: the container ignores them
    tracemalloc.start()
    try:
        r = load(str(path), min_side=224)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.size > 1_000_000_000 and r.decoded.meta.duration == 4.0
    assert peak < 64_000_000


def test_videos_skipped_by_an_older_organizer_are_read_after_the_upgrade(make_settings, tmp_path: Path) -> None:
    """An older organizer recorded a video as "not an image"; an unchanged skipped file is never read again, so
    the upgrade (schema 7) forgets those records and the next scan indexes the video."""
    import sqlite3

    from organizer.media.mp4 import write_video
    from organizer.store.migrations import DDL

    folder = tmp_path / "old"
    folder.mkdir()
    video = write_video(folder / "VID_9.mp4", 3, _scene)
    (tmp_path / "lib").mkdir()
    conn = sqlite3.connect(tmp_path / "lib" / "library.sqlite3")
    for v in range(1, 7):  # a schema-6 library, as released
        for ddl in DDL[v]:
            conn.execute(ddl)
    st = video.stat()
    conn.execute("INSERT INTO skipped(path, reason, detail, size, mtime_ns, at) VALUES (?, 'not an image', "
                 "'no known image format in its content', ?, ?, '2026-01-01')", (str(video), st.st_size, st.st_mtime_ns))
    conn.execute("INSERT INTO meta(key, value) VALUES ('schema_version', '6')")
    conn.commit()
    conn.close()
    lib = Library(make_settings())
    summary = list(lib.index([str(folder)], parts=False))[-1]
    assert (summary.new, summary.skipped, summary.unchanged) == (1, 0, 0)
    lib.close()


def test_a_decoder_that_hangs_on_a_file_is_given_up(make_settings, tmp_path: Path, monkeypatch) -> None:
    """LibRaw or FFmpeg stuck in native code on a damaged file: the file is skipped after
    decode.native_decode_seconds with a reason, and the run goes on to the next file."""
    import time

    import organizer.media.decode as dec
    from organizer.media.mp4 import write_video

    folder = tmp_path / "card"
    folder.mkdir()
    write_video(folder / "stuck.mp4", 3, _scene)
    Image.fromarray(_halves()).save(folder / "fine.jpg")
    real = dec.decode_video

    def hang(path: str, *args: object):  # noqa: ANN202
        if path.endswith("stuck.mp4"):
            time.sleep(30)
        return real(path, *args)

    monkeypatch.setattr(dec, "decode_video", hang)
    lib = Library(make_settings(decode={"native_decode_seconds": 0.5}))
    t = time.perf_counter()
    summary = list(lib.index([str(folder)], parts=False))[-1]
    assert time.perf_counter() - t < 20
    assert (summary.new, summary.skipped) == (1, 1)
    (skip,) = lib.status().skipped_files
    assert skip.path.endswith("stuck.mp4") and "did not finish within 0.5 s" in skip.detail
    lib.close()


def test_a_motion_photo_shows_its_clip(make_settings, tmp_path: Path) -> None:
    """A Google or Samsung motion photo (a JPEG with its MP4 clip appended) is a still with a clip: indexed as the
    JPEG, the clip's place kept, and copied out once as a file a player opens."""
    import io

    import cv2

    from organizer.media.mp4 import write_video

    clip = write_video(tmp_path / "clip.mp4", 3, _scene).read_bytes()
    buf = io.BytesIO()
    Image.fromarray(_halves()).save(buf, "JPEG", quality=90)
    folder = tmp_path / "pixel"
    folder.mkdir()
    (folder / "PXL_0001.MP.jpg").write_bytes(buf.getvalue() + clip)
    Image.fromarray(_halves()).save(folder / "plain.jpg", quality=90)
    lib = Library(make_settings())
    summary = list(lib.index([str(folder)], parts=False))[-1]
    assert summary.new == 2
    rows = {Path(r.path).name: r.id for r in lib.photo_rows()}
    details = lib.photo_details(rows["PXL_0001.MP.jpg"])
    assert details is not None and details.format == "JPEG" and details.motion_offset == len(buf.getvalue())
    assert details.duration is None and lib.motion_clip(rows["plain.jpg"]) is None
    out = lib.motion_clip(rows["PXL_0001.MP.jpg"])
    assert out is not None and Path(out).read_bytes() == clip
    cap = cv2.VideoCapture(out)
    assert cap.isOpened() and cap.read()[0]
    cap.release()
    lib.close()


def test_a_sign_in_a_later_scene_of_a_video_is_found_at_its_time(make_settings, tmp_path: Path) -> None:
    """Objects and text are looked for in the poster and two later scenes (at a third and two thirds of the
    clip, a scene like the poster left out): a sign that appears 4 s into a 9 s clip is read and found, and the
    search names where in the clip it is."""
    from organizer.media.mp4 import write_video

    sign = np.full((240, 640, 3), 255, np.uint8)
    sign[13:227] = np.asarray(text_image("BAKERY", (900, 300)).resize((640, 214)))
    plain = np.full((240, 640, 3), 120, np.uint8)
    folder = tmp_path / "clips"
    folder.mkdir()
    write_video(folder / "walk.mp4", 9, lambda t: sign if t >= 4 else plain, size=(640, 240))
    lib = Library(make_settings(ocr={"enabled": True, "gate": "none", "engine": "rapidocr"},
                                detection={"enabled": False}))
    summary = list(lib.index([str(folder)]))[-1]
    assert summary.ocr_run == 2  # the poster and the scene at 6 s; the one at 3 s is the poster's twin
    res = lib.search(SearchQuery(text="bakery", top_k=5))
    assert Path(res[0].path).name == "walk.mp4" and res[0].keyword_score > 0
    texts = [p for p in lib.photo_details(res[0].photo_id).parts if p.type == "text"]
    assert texts and all(p.at_seconds == 6.0 for p in texts) and any("BAKERY" in (p.text or "") for p in texts)
    lib.close()


def test_an_upgrade_fingerprints_raws_and_videos_again_and_reads_thumbnail_raws_as_raws(
        make_settings, tmp_path: Path) -> None:
    """Schema 8: files read in a stream are fingerprinted with BLAKE3. A schema-7 library's RAWs, videos and
    files in roles (BLAKE2b) are hashed again by the next scan, nothing analysed again, so a later pass and a move
    still recognise them, and a RAW's size is the framed one (its camera's crop); a RAW an older organizer read as
    its TIFF thumbnail is indexed again as the RAW, its label kept."""
    import hashlib
    import shutil
    import sqlite3

    from organizer.media.decode import hash_file
    from organizer.media.mp4 import write_video

    folder = tmp_path / "card"
    folder.mkdir()
    write_dng(folder / "solo.dng", _halves(), crop=(32, 16, 576, 448))
    write_video(folder / "VID_1.mp4", 3, _scene)
    Image.fromarray(_halves()).save(folder / "IMG_2.jpg")
    write_dng(folder / "IMG_2.dng", _halves())
    write_dng(folder / "old.dng", _halves(), preview=_halves(960, 1280))
    elsewhere = tmp_path / "elsewhere"  # a folder the next index is not asked to scan
    elsewhere.mkdir()
    write_video(elsewhere / "VID_3.mp4", 3, lambda t: _scene(t + 20))  # other bytes
    lib = Library(make_settings())
    list(lib.index([str(folder), str(elsewhere)], parts=False))
    rows = {Path(r.path).name: r for r in lib.photo_rows()}
    assert set(rows) == {"solo.dng", "VID_1.mp4", "IMG_2.jpg", "old.dng", "VID_3.mp4"}
    lib.label_photos("keep", [rows["solo.dng"].id, rows["old.dng"].id])
    before = {n: r.id for n, r in rows.items()}
    lib.close()

    def b2(name: str) -> str:
        return hashlib.blake2b((folder / name).read_bytes(), digest_size=16).hexdigest()

    conn = sqlite3.connect(tmp_path / "lib" / "library.sqlite3")  # back to what schema 7 stored
    for name in ("solo.dng", "VID_1.mp4", "old.dng"):
        conn.execute("UPDATE photos SET hash = ? WHERE id = ?", (b2(name), before[name]))
    conn.execute("UPDATE photos SET hash = ? WHERE id = ?", (hashlib.blake2b(
        (elsewhere / "VID_3.mp4").read_bytes(), digest_size=16).hexdigest(), before["VID_3.mp4"]))
    conn.execute("UPDATE paths SET hash = ? WHERE role = 'raw'", (b2("IMG_2.dng"),))
    conn.execute("UPDATE photos SET format = 'TIFF', width = 256, height = 192 WHERE id = ?", (before["old.dng"],))
    conn.execute("UPDATE photos SET width = 640, height = 480 WHERE id = ?", (before["solo.dng"],))  # uncropped
    conn.execute("DROP TABLE rehash")
    conn.execute("ALTER TABLE photos DROP COLUMN lens")
    conn.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()

    lib = Library(make_settings())
    summary = list(lib.index([str(folder)], parts=False))[-1]
    assert (summary.new, summary.skipped, summary.unchanged) == (1, 0, 5)  # only the thumbnail-read RAW again
    rows = {Path(r.path).name: r for r in lib.photo_rows()}
    assert {n: rows[n].id for n in ("solo.dng", "VID_1.mp4", "IMG_2.jpg")} == {
        n: before[n] for n in ("solo.dng", "VID_1.mp4", "IMG_2.jpg")}
    files = [folder / n for n in ("solo.dng", "VID_1.mp4", "IMG_2.dng")] + [elsewhere / "VID_3.mp4"]
    expect = lib.store.expected_hashes((0, str(f)) for f in files)
    assert expect == {str(f): hash_file(str(f), 1 << 40)[0] for f in files}
    solo = lib.photo_details(rows["solo.dng"].id)
    assert solo is not None and (solo.width, solo.height) == (576, 448)
    old = lib.photo_details(rows["old.dng"].id)
    assert old is not None
    assert (old.format, old.width, old.height) == ("DNG", 640, 480)
    assert set(lib.label_photo_ids("keep")) == {rows["solo.dng"].id, rows["old.dng"].id}
    assert lib.store.rehash_due() == {}
    shutil.move(folder / "solo.dng", folder / "renamed.dng")  # a move is recognised by the new fingerprint
    summary = list(lib.index([str(folder)], parts=False))[-1]
    assert (summary.new, summary.removed_paths) == (0, 1)
    assert rows["solo.dng"].id in set(lib.label_photo_ids("keep"))
    lib.close()


def _red_centre(im: Image.Image) -> tuple[float, float]:
    """Where the red square is, as fractions of the picture's width and height."""
    a = np.asarray(im.convert("RGB")).astype(int)
    ys, xs = np.nonzero((a[..., 0] > a[..., 1] + 100) & (a[..., 0] > a[..., 2] + 100))
    return float(xs.mean() + 0.5) / im.width, float(ys.mean() + 0.5) / im.height


@pytest.mark.parametrize(("shape", "orientation"), [("4:3", 1), ("16:9", 1), ("4:3", 6)])
def test_a_raw_is_framed_as_its_preview_so_boxes_stay_in_place(tmp_path: Path, shape: str, orientation: int) -> None:
    """The camera crops its sensor (DNG's DefaultCrop: a magenta border outside it here) and its preview shows only
    that, in the picture style's shape (4:3, or 16:9 cut from it). The viewer's full demosaic, and the half-size one
    an index makes without a preview, are framed alike: a box found on the preview (kept as fractions of the
    picture) outlines the same thing on either, and the photo's size is the framed one."""
    rgb = np.full((480, 640, 3), (200, 40, 200), np.uint8)  # magenta: the border the camera crops away
    rgb[48:432, 64:576] = (90, 110, 120)
    rgb[150:230, 380:470] = (220, 30, 30)  # the red square
    inner = rgb[48:432, 64:576]
    if shape == "16:9":
        inner = inner[48:336]  # 512x288, centred
    preview = np.asarray(Image.fromarray(inner).resize((inner.shape[1] * 2, inner.shape[0] * 2)))
    path = write_dng(tmp_path / "IMG_0100.DNG", rgb, preview, orientation=orientation, crop=(64, 48, 512, 384))
    shown = load(str(path), min_side=224)  # the preview, as indexing reads it
    full = load(str(path))  # LibRaw's demosaic at full size, as the viewer shows actual size
    bare = load(str(write_dng(tmp_path / "bare.dng", rgb, orientation=orientation, crop=(64, 48, 512, 384))),
                min_side=224)  # no preview: demosaiced at half size
    want = (512, 288) if shape == "16:9" else (512, 384)
    if orientation == 6:
        want = want[::-1]
    assert (full.decoded.meta.width, full.decoded.meta.height) == full.image.size == want
    assert (shown.decoded.meta.width, shown.decoded.meta.height) == want
    centre = _red_centre(shown.image)
    for other in ((full.image,) if shape == "16:9" else (full.image, bare.image)):
        assert _red_centre(other) == pytest.approx(centre, abs=0.02)
        a = np.asarray(other)  # its edges (past the pixel or two the demosaic blends) show no magenta border
        for strip in (a[3:8], a[-8:-3], a[:, 3:8], a[:, -8:-3]):
            assert np.median(strip[..., 1]) > 150
