"""Uploads built in memory for photo tests: real camera-like pictures and the files a photo field must refuse."""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import pillow_heif
from PIL import ExifTags, Image

# 攀枝花市东区 — where the camera in these samples says it stood.
LATITUDE = (26.0, 35.0, 2.4)
LONGITUDE = (101.0, 43.0, 1.2)
RED = (220, 30, 30)
BLUE = (30, 30, 220)
CAMERA_COMMENT = b"Shot at home, room 301"
XMP_WITH_GPS = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="26,35.04N"'
    b' exif:GPSLongitude="101,43.02E"/></rdf:RDF></x:xmpmeta>'
)


@dataclass(frozen=True)
class Sample:
    filename: str
    content_type: str
    data: bytes

    def stream(self) -> io.BytesIO:
        return io.BytesIO(self.data)

    def upload(self) -> tuple[io.BytesIO, str, str]:
        """The value werkzeug's test client takes for a file field."""
        return io.BytesIO(self.data), self.filename, self.content_type


def scene(width: int, height: int, texture: bool = False) -> Image.Image:
    """Red on the left half, blue on the right; `texture` adds grain so JPEG works as hard as on a photo."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(BLUE, (width // 2, 0, width, height))
    if texture:
        grain = Image.effect_noise((max(1, width // 4), max(1, height // 4)), 40).resize((width, height))
        image = Image.blend(image, grain.convert("RGB"), 0.35)
    return image


def camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "HUAWEI"
    exif[ExifTags.Base.Model] = "ELS-AN00"
    exif[ExifTags.Base.DateTime] = "2026:11:03 10:15:00"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: LONGITUDE,
    }
    return exif


def camera_jpeg(width: int = 1200, height: int = 900, orientation: int = 1, texture: bool = False) -> Sample:
    """A phone photo: EXIF with make, model, time and GPS position, an XMP packet with GPS, a comment."""
    out = io.BytesIO()
    scene(width, height, texture).save(
        out, "JPEG", quality=92, exif=camera_exif(orientation), xmp=XMP_WITH_GPS, comment=CAMERA_COMMENT
    )
    return Sample("IMG_20261103_101500.jpg", "image/jpeg", out.getvalue())


def camera_jpeg_with_broken_exif(width: int = 400, height: int = 200) -> Sample:
    """A phone photo held upright (orientation 6) whose EXIF stores the maker's name as a number."""
    exif = camera_exif(orientation=6).tobytes()
    # Big-endian IFD entry: tag 271 (Make), type 2 (ASCII) becomes type 5 (RATIONAL).
    broken = exif.replace(struct.pack(">HH", ExifTags.Base.Make, 2), struct.pack(">HH", ExifTags.Base.Make, 5), 1)
    assert broken != exif
    out = io.BytesIO()
    scene(width, height).save(out, "JPEG", quality=92, exif=broken)
    return Sample("IMG_20261103_101502.jpg", "image/jpeg", out.getvalue())


def png_with_alpha(width: int = 800, height: int = 600) -> Sample:
    """Left half fully transparent, right half opaque green."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((0, 160, 0, 255), (width // 2, 0, width, height))
    out = io.BytesIO()
    image.save(out, "PNG")
    return Sample("screenshot.png", "image/png", out.getvalue())


def webp_photo(width: int = 1000, height: int = 750) -> Sample:
    out = io.BytesIO()
    scene(width, height).save(out, "WEBP", quality=80)
    return Sample("wx_camera_1762136100.webp", "image/webp", out.getvalue())


def heic_photo(width: int = 800, height: int = 600) -> Sample:
    """A real HEIC with GPS in its EXIF, as an iPhone saves it."""
    image = scene(width, height)
    image.info["exif"] = camera_exif().tobytes()
    out = io.BytesIO()
    pillow_heif.from_pillow(image).save(out, quality=80)
    return Sample("IMG_0001.HEIC", "image/heic", out.getvalue())


def truncated_jpeg() -> Sample:
    data = camera_jpeg().data
    return Sample("IMG_20261103_101501.jpg", "image/jpeg", data[: len(data) * 6 // 10])


def php_named_jpg() -> Sample:
    return Sample("photo.jpg", "image/jpeg", b"<?php system($_GET['cmd']); ?>\n")


def php_with_jpeg_magic() -> Sample:
    """A script behind the first bytes of a JPEG, to pass a check that only looks at magic numbers."""
    return Sample("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00<?php system($_GET['cmd']); ?>")


def gif_image() -> Sample:
    out = io.BytesIO()
    scene(120, 90).save(out, "GIF")
    return Sample("funny.jpg", "image/jpeg", out.getvalue())


def bmp_image() -> Sample:
    out = io.BytesIO()
    scene(120, 90).save(out, "BMP")
    return Sample("scan.bmp", "image/bmp", out.getvalue())


def avif_image() -> Sample:
    out = io.BytesIO()
    scene(120, 90).save(out, "AVIF")
    return Sample("photo.avif", "image/avif", out.getvalue())


def svg_image() -> Sample:
    svg = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b'<script>alert(document.cookie)</script><rect width="100" height="100" fill="red"/></svg>'
    )
    return Sample("photo.svg", "image/svg+xml", svg)


def pdf_document() -> Sample:
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return Sample("invoice.pdf", "application/pdf", pdf)


def empty_file() -> Sample:
    return Sample("photo.jpg", "image/jpeg", b"")


def oversized_upload(size: int = 50 * 1024 * 1024) -> Sample:
    """A JPEG start followed by padding: too big to be worth decoding."""
    return Sample("big.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + bytes(size - 4))


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def pixel_flood_png(width: int = 30000, height: int = 30000) -> Sample:
    """A few hundred bytes whose header claims width×height RGB pixels (a decompression bomb).

    Only the first row is present: a decoder has to allocate the whole image before it notices."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    first_row = zlib.compress(bytes(1 + 3 * width), 9)
    data = (
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", first_row)
        + _png_chunk(b"IEND", b"")
    )
    return Sample("bomb.png", "image/png", data)
