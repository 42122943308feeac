from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from organizer.media.decode import SkipError, SkipReason, content_hash, decode, read_file
from organizer.media.scan import walk
from tests.conftest import noise_image, sample_image


def _jpeg(im: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def _skip_reason(data: bytes, **kw: object) -> SkipReason:
    with pytest.raises(SkipError) as e:
        decode(data, max_pixels=kw.pop("max_pixels", 10**8), **kw)  # type: ignore[arg-type]
    return e.value.reason


def test_empty_file_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    with pytest.raises(SkipError) as e:
        read_file(str(p), 10**6)
    assert e.value.reason is SkipReason.EMPTY


def test_non_image_with_image_extension_is_skipped() -> None:
    assert _skip_reason(b"just some text, named photo.jpg") is SkipReason.NOT_IMAGE


def test_truncated_jpeg_is_skipped() -> None:
    data = _jpeg(sample_image("astronaut"))
    assert _skip_reason(data[: len(data) // 2]) is SkipReason.TRUNCATED


def test_truncated_jpeg_is_skipped_also_when_drafted() -> None:
    data = _jpeg(sample_image("astronaut"))
    assert _skip_reason(data[: len(data) // 2], min_side=64) is SkipReason.TRUNCATED


def test_decompression_bomb_is_skipped_from_the_header_alone() -> None:
    buf = io.BytesIO()
    Image.new("L", (3000, 3000)).save(buf, "PNG")
    assert _skip_reason(buf.getvalue(), max_pixels=1_000_000) is SkipReason.TOO_LARGE


def test_oversized_file_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "big.jpg"
    p.write_bytes(b"\xff" * 2000)
    with pytest.raises(SkipError) as e:
        read_file(str(p), 1000)
    assert e.value.reason is SkipReason.TOO_LARGE


def test_unsupported_format_is_skipped() -> None:
    buf = io.BytesIO()
    noise_image(1).save(buf, "PPM")
    assert _skip_reason(buf.getvalue()) is SkipReason.UNSUPPORTED


def test_unreadable_file_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "locked.jpg"
    p.write_bytes(_jpeg(noise_image(2)))

    def deny(*_a: object, **_k: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("os.open", deny)
    with pytest.raises(SkipError) as e:
        read_file(str(p), 10**6)
    assert e.value.reason is SkipReason.UNREADABLE


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_formats_are_sniffed_by_content_not_extension(fmt: str) -> None:
    buf = io.BytesIO()
    noise_image(3, (80, 40)).save(buf, fmt)
    d = decode(buf.getvalue(), 10**8)
    assert d.image.mode == "RGB" and d.image.size == (80, 40) and d.meta.format == fmt


def test_heic_decodes() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    buf = io.BytesIO()
    try:
        pillow_heif.from_pillow(noise_image(4, (64, 48))).save(buf, format="HEIF")
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"no HEIF encoder here: {e}")
    d = decode(buf.getvalue(), 10**8)
    assert d.image.size == (64, 48) and d.meta.format == "HEIF"


def test_gif_first_frame() -> None:
    frames = [Image.new("RGB", (20, 20), c) for c in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    d = decode(buf.getvalue(), 10**8)
    r, g, b = d.image.getpixel((10, 10))
    assert r > 200 and b < 50


def test_exif_orientation_is_applied_and_metadata_read() -> None:
    im = Image.new("RGB", (200, 100), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS 5D"
    exif.get_ifd(0x8769)[0x9003] = "2019:07:14 10:30:00"
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 29.6), 3: "E", 4: (2.0, 17.0, 40.2)})
    d = decode(_jpeg(im, exif=exif), 10**8)
    assert d.image.size == (100, 200)
    assert (d.meta.width, d.meta.height) == (100, 200)
    assert d.meta.camera_make == "Canon" and d.meta.camera_model == "EOS 5D"
    assert d.meta.taken_at is not None and d.meta.taken_at.year == 2019
    assert d.meta.gps_lat == pytest.approx(48.8582, abs=1e-3) and d.meta.gps_lon == pytest.approx(2.2945, abs=1e-3)


def test_large_jpeg_is_drafted_but_keeps_its_true_size() -> None:
    big = sample_image("astronaut").resize((2048, 2048))
    d = decode(_jpeg(big), 10**8, min_side=224)
    assert 224 <= min(d.image.size) < 1024  # decoded at a reduced scale
    assert (d.meta.width, d.meta.height) == (2048, 2048)


def test_max_side_caps_the_decoded_size() -> None:
    d = decode(_jpeg(noise_image(5, (1200, 800))), 10**8, max_side=300)
    assert max(d.image.size) == 300


def test_hash_is_of_bytes() -> None:
    # the identity stored in every library: BLAKE2b-128 of the file's bytes (changing it re-analyses all)
    assert content_hash(b"organizer") == "dae2893308a859343dc02b7fcf71e5c3"
    im = noise_image(6)
    a = _jpeg(im)
    png = io.BytesIO()
    im.save(png, format="PNG")
    assert content_hash(a) != content_hash(a + b"x")  # one byte more is another photo
    assert content_hash(a) != content_hash(png.getvalue())  # the same pixels in another file too


def test_walk_skips_hidden_and_excluded(tmp_path: Path) -> None:
    (tmp_path / "a" / ".hidden").mkdir(parents=True)
    (tmp_path / "lib").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(b"1")
    (tmp_path / "a" / ".hidden" / "y.jpg").write_bytes(b"1")
    (tmp_path / "a" / ".z.jpg").write_bytes(b"1")
    (tmp_path / "lib" / "thumb.jpg").write_bytes(b"1")
    found = [Path(e.path).name for e in walk([tmp_path], exclude=[str(tmp_path / "lib")])]
    assert found == ["x.jpg"]
