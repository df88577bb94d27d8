"""Work-order photos (报事报修照片): check an upload by its content, re-encode it without metadata, store it.

Every accepted photo leaves here as a fresh JPEG: the EXIF block (with the GPS position of the
resident's home), XMP and comments are dropped, the EXIF orientation is applied to the pixels first,
transparency is flattened onto white and the longer side is at most MAX_SIDE_PX. Anything that is not a
decodable JPEG, PNG, WebP or HEIC (iPhones; pillow-heif) is refused with PhotoRefused, whose
text is shown to the resident."""
from __future__ import annotations

import functools
import io
import logging
import typing
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pillow_heif
from flask import Response, abort, current_app
from PIL import Image, ImageOps

from backend.domain.refusals import Kind, Refused
from backend.extensions import db
from backend.integrations.storage import LocalDiskStorage, PhotoStorage
from backend.models import TopicPhoto, WorkOrderPhoto

log = logging.getLogger("linli.photos")

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_SIDE_PX = 1600
MAX_PHOTOS_PER_ORDER = 6
# Decoding takes about 4 bytes per pixel, so this caps one upload near 200 MB of memory while a
# 48-megapixel phone photo (iPhone "HEIF Max" 8064×6048) still passes. JPEGs are decoded scaled down.
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 85

STORAGE_EXTENSION = "linli_photo_storage"
_READ_CHUNK = 1024 * 1024
# ISO-BMFF major brands of HEIF pictures taken by phones (HEVC-coded images and sequences).

TOO_LARGE = f"照片不能超过{MAX_UPLOAD_BYTES // (1024 * 1024)}MB，请压缩后重新上传"
EMPTY = "文件是空的，请重新选择照片"
UNSUPPORTED = "不支持这种文件，请上传JPG、PNG或WebP格式的照片"
DAMAGED = "照片已损坏或不完整，请重新拍摄或选择其他照片"
TOO_MANY_PIXELS = "照片像素过大，请缩小后重新上传"


class PhotoRefused(Refused):
    """The upload is not a photo we keep; the message is Chinese, for the resident."""

    default_kind = Kind.INVALID


class PhotoTooLarge(PhotoRefused):
    """Over MAX_UPLOAD_BYTES: refused before decoding."""

    default_kind = Kind.TOO_LARGE


class PhotoMissing(LookupError):
    """No stored photo has this key."""


@dataclass(frozen=True)
class PreparedPhoto:
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class KeptPhoto:
    """A photo already in storage, handed to another feature's row under the same key (a campaign finding's photo
    shown on the work order made from it). Photo files are never deleted once their row commits."""

    storage_key: str
    width: int
    height: int
    size_bytes: int


@functools.cache
def _register_heif() -> None:
    """HEIC support is registered with Pillow the first time a photo is read, not at import."""
    pillow_heif.register_heif_opener()


def _read_at_most(stream: typing.BinaryIO, limit: int) -> bytes:
    buffer = bytearray()
    while len(buffer) < limit:
        chunk = stream.read(min(_READ_CHUNK, limit - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer)


def _fit(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_SIDE_PX / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _flattened(image: Image.Image) -> Image.Image:
    """RGB (or L) pixels that JPEG can hold: transparency onto white, 16-bit grey scaled to 8 bits."""
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("RGB", "L"):
        return image
    if image.mode.startswith("I"):
        # A plain convert clips 16-bit values at 255, turning the picture white.
        return image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def _turn_upright(image: Image.Image) -> None:
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception:
        # Pillow turns the pixels first, then rewrites the EXIF block without the orientation tag; a
        # malformed block fails that rewrite. The block is dropped anyway and must not cost the photo.
        log.info("ignored unreadable EXIF while turning a photo upright", exc_info=True)


def _reencode(image: Image.Image) -> PreparedPhoto:
    icc_profile = image.info.get("icc_profile")
    # Decode a large JPEG at 1/2, 1/4 or 1/8 scale straight away: faster and far less memory.
    image.draft(None, _fit(image.width, image.height))
    image.load()
    _turn_upright(image)
    picture = _flattened(image)
    picture.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX), Image.Resampling.LANCZOS)
    # JPEG's encoder would copy a comment from info; nothing of the upload's metadata goes out.
    picture.info = {}
    out = io.BytesIO()
    # The colour profile stays (Display P3 photos would look washed out without it); it holds no place.
    picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, icc_profile=icc_profile)
    return PreparedPhoto(data=out.getvalue(), width=picture.width, height=picture.height)


def prepare_photo(stream: typing.BinaryIO) -> PreparedPhoto:
    """Read one upload (at most MAX_UPLOAD_BYTES + 1 bytes) and return it as a clean JPEG, or refuse it."""
    data = _read_at_most(stream, MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoTooLarge(TOO_LARGE)
    if not data:
        raise PhotoRefused(EMPTY)
    _register_heif()
    formats = ["JPEG", "PNG", "WEBP", "HEIF"]
    try:
        # Only these decoders may look at the bytes; a name or declared type is never trusted.
        with Image.open(io.BytesIO(data), formats=formats) as image:
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused(TOO_MANY_PIXELS)
            return _reencode(image)
    except PhotoRefused:
        raise
    except Image.UnidentifiedImageError as exc:
        raise PhotoRefused(UNSUPPORTED) from exc
    except Image.DecompressionBombError as exc:
        raise PhotoRefused(TOO_MANY_PIXELS) from exc
    except Exception as exc:
        # Pillow's decoders raise many types on hostile or broken input (OSError, SyntaxError,
        # ValueError, struct.error, …); each means the same thing to the resident.
        log.info("refused an undecodable photo", exc_info=True)
        raise PhotoRefused(DAMAGED) from exc


def photo_storage() -> PhotoStorage:
    """The app's photo storage: a plugged-in one, else local disk under LINLI_PHOTO_DIR or instance/photos."""
    storage = current_app.extensions.get(STORAGE_EXTENSION)
    if storage is None:
        configured = current_app.config.get("LINLI_PHOTO_DIR")
        root = Path(configured) if configured else Path(current_app.instance_path) / "photos"
        storage = current_app.extensions[STORAGE_EXTENSION] = LocalDiskStorage(root)
    return storage


def store_photo(prepared: PreparedPhoto) -> str:
    """Save a prepared photo under a new random key and return the key."""
    now = datetime.now(UTC)
    key = f"wo/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.jpg"
    photo_storage().save(key, prepared.data, prepared.content_type)
    return key


def load_photo(key: str) -> bytes:
    """The stored JPEG's bytes; PhotoMissing when nothing is stored under `key`."""
    try:
        return photo_storage().read(key)
    except (FileNotFoundError, ValueError) as exc:
        # ValueError: a key that would escape the storage root, so it was never stored.
        raise PhotoMissing(key) from exc


def delete_photos(keys: typing.Iterable[str]) -> None:
    """Remove files whose rows never committed, so a failed request leaves nothing behind."""
    for key in keys:
        photo_storage().delete(key)


@contextmanager
def kept_only_on_commit() -> Iterator[list[str]]:
    """Files are written before their rows commit; if the commit never happens, remove them again."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        db.session.rollback()
        delete_photos(stored)
        raise


def photo_response(photo: WorkOrderPhoto | TopicPhoto | None, max_age: int) -> Response:
    """The JPEG of a photo the viewer may see; 404 when they may not (None) or its file is gone. The error
    handler answers the 404 as JSON under /api/ and as the error page elsewhere."""
    if photo is None:
        abort(404)
    try:
        data = load_photo(photo.storage_key)
    except PhotoMissing:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    # Never in a shared cache: the URL alone must not hand the photo to someone else.
    response.headers["Cache-Control"] = f"private, max-age={max_age}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
