"""Work-order photos: what is accepted, what leaves without metadata, what is refused, and where it is kept."""
from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms

from backend.integrations.storage import LocalDiskStorage
from backend.services import photos
from backend.services.photos import (
    MAX_SIDE_PX,
    MAX_UPLOAD_BYTES,
    PhotoMissing,
    PhotoRefused,
    PreparedPhoto,
    load_photo,
    photo_storage,
    prepare_photo,
    store_photo,
)
from tests import photo_samples as samples

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def storage(app, tmp_path, monkeypatch) -> LocalDiskStorage:
    disk = LocalDiskStorage(tmp_path)
    monkeypatch.setitem(app.extensions, photos.STORAGE_EXTENSION, disk)
    return disk


def decoded(prepared: PreparedPhoto) -> Image.Image:
    image = Image.open(io.BytesIO(prepared.data))
    image.load()
    return image


def assert_no_metadata(prepared: PreparedPhoto) -> None:
    image = decoded(prepared)
    assert image.format == "JPEG" and prepared.content_type == "image/jpeg"
    assert len(image.getexif()) == 0
    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert not {"exif", "xmp", "comment"} & image.info.keys()
    for marker in (b"Exif", b"GPS", b"xmpmeta", b"ns.adobe.com", samples.CAMERA_COMMENT, b"HUAWEI"):
        assert marker not in prepared.data


def close_to(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


# ---- accepted -------------------------------------------------------------------------------------


def test_camera_photo_loses_exif_gps_xmp_and_comment():
    sample = samples.camera_jpeg()
    original = Image.open(sample.stream())
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] == samples.LATITUDE
    assert b"GPS" in sample.data and b"Exif" in sample.data

    prepared = prepare_photo(sample.stream())

    assert_no_metadata(prepared)
    assert (prepared.width, prepared.height) == (1200, 900) == decoded(prepared).size


def test_exif_orientation_is_applied_to_the_pixels():
    """Orientation 6 (phone held upright): stored sideways, shown rotated 90° clockwise."""
    prepared = prepare_photo(samples.camera_jpeg(400, 200, orientation=6).stream())

    image = decoded(prepared).convert("RGB")
    assert image.size == (200, 400) == (prepared.width, prepared.height)
    assert close_to(image.getpixel((100, 20)), samples.RED)
    assert close_to(image.getpixel((100, 380)), samples.BLUE)
    assert_no_metadata(prepared)


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
def test_photo_with_malformed_exif_is_kept_and_turned_upright():
    prepared = prepare_photo(samples.camera_jpeg_with_broken_exif().stream())

    image = decoded(prepared).convert("RGB")
    assert image.size == (200, 400)
    assert close_to(image.getpixel((100, 20)), samples.RED)
    assert_no_metadata(prepared)


def test_twelve_megapixel_photo_is_scaled_to_the_longest_side_limit():
    prepared = prepare_photo(samples.camera_jpeg(4000, 3000, texture=True).stream())

    assert decoded(prepared).size == (MAX_SIDE_PX, 1200) == (prepared.width, prepared.height)
    assert_no_metadata(prepared)


def test_portrait_photo_keeps_its_shape():
    prepared = prepare_photo(samples.camera_jpeg(1800, 3600).stream())

    assert decoded(prepared).size == (800, MAX_SIDE_PX)


def test_png_with_alpha_becomes_jpeg_on_white():
    prepared = prepare_photo(samples.png_with_alpha().stream())

    image = decoded(prepared)
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (800, 600)
    assert close_to(image.getpixel((100, 300)), (255, 255, 255), tolerance=3)
    assert close_to(image.getpixel((700, 300)), (0, 160, 0), tolerance=10)


def test_webp_becomes_jpeg():
    prepared = prepare_photo(samples.webp_photo().stream())

    image = decoded(prepared)
    assert image.format == "JPEG" and image.size == (1000, 750)
    assert close_to(image.getpixel((100, 375)), samples.RED)


def test_colour_profile_is_kept():
    """Display P3 phone photos look washed out without their ICC profile; it says nothing about the place."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    samples.scene(320, 240).save(out, "JPEG", icc_profile=profile, exif=samples.camera_exif())

    prepared = prepare_photo(io.BytesIO(out.getvalue()))

    assert decoded(prepared).info["icc_profile"] == profile
    assert_no_metadata(prepared)


def test_sixteen_bit_grey_png_keeps_its_tones():
    grey = Image.new("I;16", (64, 48), 128 * 256)
    out = io.BytesIO()
    grey.save(out, "PNG")

    image = decoded(prepare_photo(io.BytesIO(out.getvalue())))

    assert abs(image.convert("L").getpixel((32, 24)) - 128) <= 2


def test_upload_of_exactly_the_limit_is_read_and_judged_by_content():
    """The size check refuses only what is larger than MAX_UPLOAD_BYTES."""
    with pytest.raises(PhotoRefused) as refused:
        prepare_photo(io.BytesIO(bytes(MAX_UPLOAD_BYTES)))

    assert str(refused.value) == photos.UNSUPPORTED


def test_an_iphone_heic_photo_becomes_a_clean_jpeg():
    sample = samples.heic_photo()

    prepared = prepare_photo(sample.stream())

    assert Image.open(sample.stream()).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert_no_metadata(prepared)
    assert decoded(prepared).size == (800, 600)


# ---- refused ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_sample", "message"),
    [
        (samples.php_named_jpg, photos.UNSUPPORTED),
        (samples.php_with_jpeg_magic, photos.UNSUPPORTED),
        (samples.gif_image, photos.UNSUPPORTED),
        (samples.svg_image, photos.UNSUPPORTED),
        (samples.pdf_document, photos.UNSUPPORTED),
        (samples.bmp_image, photos.UNSUPPORTED),
        (samples.avif_image, photos.UNSUPPORTED),
        (samples.empty_file, photos.EMPTY),
        (samples.truncated_jpeg, photos.DAMAGED),
        (samples.oversized_upload, photos.TOO_LARGE),
        (samples.pixel_flood_png, photos.TOO_MANY_PIXELS),
        (lambda: samples.pixel_flood_png(8000, 7000), photos.TOO_MANY_PIXELS),
    ],
    ids=[
        "php-named-jpg", "php-with-jpeg-magic", "gif", "svg", "pdf", "bmp", "avif", "empty", "truncated-jpeg",
        "50MB", "bomb-900-megapixels", "bomb-56-megapixels",
    ],
)
def test_wrong_files_are_refused_with_a_chinese_message(make_sample, message):
    with pytest.raises(PhotoRefused) as refused:
        prepare_photo(make_sample().stream())

    assert str(refused.value) == message
    assert CJK.search(str(refused.value))


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_oversized_upload_is_refused_after_reading_just_past_the_limit():
    stream = CountingStream(samples.oversized_upload().data)

    with pytest.raises(PhotoRefused) as refused:
        prepare_photo(stream)

    assert str(refused.value) == photos.TOO_LARGE
    assert stream.bytes_read == MAX_UPLOAD_BYTES + 1


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
def test_damaged_photos_are_refused_never_crash():
    """Random corruption of real pictures ends in a photo or a PhotoRefused, never another exception."""
    rng = random.Random(20261103)
    originals = [samples.camera_jpeg(320, 240).data, samples.png_with_alpha(160, 120).data,
                 samples.webp_photo(160, 120).data]
    outcomes = {"accepted": 0, "refused": 0}
    for _ in range(300):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            del data[rng.randrange(len(data)):]
        try:
            prepared = prepare_photo(io.BytesIO(bytes(data)))
        except PhotoRefused as refused:
            assert CJK.search(str(refused))
            outcomes["refused"] += 1
        else:
            assert decoded(prepared).format == "JPEG"
            outcomes["accepted"] += 1
    assert outcomes["accepted"] and outcomes["refused"]


# ---- storage -----------------------------------------------------------------------------------------


def test_stored_photo_round_trips_under_a_random_key(storage, tmp_path):
    prepared = prepare_photo(samples.camera_jpeg().stream())

    first, second = store_photo(prepared), store_photo(prepared)

    assert first != second
    for key in (first, second):
        assert re.fullmatch(r"wo/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", key)
        assert load_photo(key) == prepared.data
        assert (tmp_path / key).read_bytes() == prepared.data


@pytest.mark.parametrize("key", ["wo/2026/11/0123456789abcdef0123456789abcdef.jpg", "../secret.jpg", "/etc/passwd", "wo"])
def test_loading_a_key_never_stored_is_photo_missing(storage, key):
    (storage.root / "wo").mkdir()

    with pytest.raises(PhotoMissing):
        load_photo(key)


def test_photo_storage_defaults_to_the_configured_directory(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.extensions, photos.STORAGE_EXTENSION, None)
    monkeypatch.setitem(app.config, "LINLI_PHOTO_DIR", str(tmp_path / "photos"))

    storage = photo_storage()
    key = store_photo(prepare_photo(samples.webp_photo().stream()))

    assert isinstance(storage, LocalDiskStorage) and storage.root == tmp_path / "photos"
    assert photo_storage() is storage
    assert (tmp_path / "photos" / key).is_file()


def test_photo_storage_falls_back_to_the_instance_folder(app, monkeypatch):
    monkeypatch.setitem(app.extensions, photos.STORAGE_EXTENSION, None)
    monkeypatch.delitem(app.config, "LINLI_PHOTO_DIR", raising=False)

    storage = photo_storage()

    assert isinstance(storage, LocalDiskStorage)
    assert storage.root == Path(app.instance_path) / "photos"


def test_local_disk_storage_saves_reads_replaces_and_deletes(tmp_path):
    disk = LocalDiskStorage(tmp_path / "root")

    disk.save("wo/2026/11/a.jpg", b"first", "image/jpeg")
    disk.save("wo/2026/11/a.jpg", b"second", "image/jpeg")

    assert disk.read("wo/2026/11/a.jpg") == b"second"
    assert [p.name for p in (tmp_path / "root" / "wo" / "2026" / "11").iterdir()] == ["a.jpg"]
    disk.delete("wo/2026/11/a.jpg")
    disk.delete("wo/2026/11/a.jpg")
    with pytest.raises(FileNotFoundError):
        disk.read("wo/2026/11/a.jpg")
    with pytest.raises(FileNotFoundError):
        disk.read("wo/2026")


@pytest.mark.parametrize(
    "key", ["", "../outside.jpg", "wo/../../outside.jpg", "/etc/passwd", "..", "wo\\..\\..\\outside.jpg", "a\x00.jpg"]
)
def test_local_disk_storage_refuses_keys_that_escape_the_root(tmp_path, key):
    disk = LocalDiskStorage(tmp_path / "root")

    for attempt in (lambda: disk.save(key, b"x", "image/jpeg"), lambda: disk.read(key), lambda: disk.delete(key)):
        with pytest.raises(ValueError):
            attempt()
    assert not (tmp_path / "outside.jpg").exists()


def test_local_disk_storage_refuses_a_symlink_out_of_the_root(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "wo").symlink_to(tmp_path / "elsewhere")
    disk = LocalDiskStorage(tmp_path / "root")

    with pytest.raises(ValueError):
        disk.save("wo/a.jpg", b"x", "image/jpeg")
    assert list((tmp_path / "elsewhere").iterdir()) == []
