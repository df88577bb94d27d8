"""Evidence files (an agreement, a voucher, a quote, an audit report): a PDF checked by its bytes, or a photo checked
and re-encoded like a work-order photo; stored under a feature's folder and deleted again if the rows never commit."""
from __future__ import annotations

import io
import typing
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from backend.domain.documents import pdf_problem
from backend.services.photos import (
    MAX_UPLOAD_BYTES,
    TOO_LARGE,
    PhotoRefused,
    PhotoTooLarge,
    photo_storage,
    prepare_photo,
)

PDF = "application/pdf"
JPEG = "image/jpeg"


@dataclass(frozen=True)
class PreparedDocument:
    data: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return "pdf" if self.content_type == PDF else "jpg"


def prepare_document(stream: typing.BinaryIO) -> PreparedDocument:
    """A PDF (by its first bytes, never its name or declared type) checked by pdf_problem, else a photo checked and
    re-encoded like a work-order photo. Refused with PhotoRefused / PhotoTooLarge."""
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoTooLarge(TOO_LARGE)
    if data.startswith(b"%PDF-"):
        problem = pdf_problem(data)
        if problem:
            raise PhotoRefused(problem)
        return PreparedDocument(data=data, content_type=PDF)
    photo = prepare_photo(io.BytesIO(data))
    return PreparedDocument(data=photo.data, content_type=JPEG)


def store_document(document: PreparedDocument, folder: str, stored: list[str]) -> str:
    """Save under `folder/YYYY/MM/`; the key is added to `stored` (from photos.kept_only_on_commit) so that the
    file goes again if the transaction that names it rolls back."""
    now = datetime.now(UTC)
    key = f"{folder}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{document.extension}"
    photo_storage().save(key, document.data, document.content_type)
    stored.append(key)
    return key
