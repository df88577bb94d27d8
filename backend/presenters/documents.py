"""How pages and the API show an evidence file (a journal voucher, a spending quote, a posted file): where to fetch
it, and whether it is a photo to show or a PDF to download."""
from __future__ import annotations

from dataclasses import dataclass

from backend.services.documents import PDF


@dataclass(frozen=True)
class DocumentView:
    url: str
    content_type: str
    id: int | None = None

    @property
    def is_pdf(self) -> bool:
        return self.content_type == PDF

    @property
    def is_photo(self) -> bool:
        return not self.is_pdf
