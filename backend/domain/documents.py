"""Files people upload as evidence (an agreement, a voucher, a quote, an audit report): which PDFs we keep."""
from __future__ import annotations

import re

# A scan is a photo (checked and re-encoded like a work-order photo) or a PDF up to this size.
MAX_PDF_BYTES = 10 * 1024 * 1024

# PDF names that run something when opened; a scanned voucher or agreement never needs them.
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_ACTIVE_PDF = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/EmbeddedFiles", b"/OpenAction", b"/AA", b"/RichMedia", b"/XFA")


def pdf_problem(data: bytes) -> str | None:
    """Why these bytes are not a PDF we keep, or None: the `%PDF-` header at the start, the `%%EOF` trailer near
    the end, within the size limit, and no active content (scripts, launch actions, embedded files) in its
    uncompressed dictionaries. Served later as a download only, never inline."""
    if not data:
        return "文件是空的，请重新选择"
    if len(data) > MAX_PDF_BYTES:
        return f"文件不能超过{MAX_PDF_BYTES // (1024 * 1024)}MB"
    if not data.startswith(b"%PDF-1.") and not data.startswith(b"%PDF-2."):
        return "不支持这种文件，请上传照片或PDF"
    if b"%%EOF" not in data[-1024:]:
        return "PDF文件不完整，请重新导出"
    # A name may spell any byte as #xx (/J#61vaScript is /JavaScript to a reader): read the names as a reader does.
    data = _NAME_ESCAPE.sub(lambda found: bytes([int(found[1], 16)]), data)
    for name in _ACTIVE_PDF:
        start = data.find(name)
        while start != -1:
            # A name ends at a delimiter: /JS is active, /JSomething is not.
            after = data[start + len(name): start + len(name) + 1]
            if not after or after in b" \t\r\n/<>[]()%{}":
                return "PDF含有脚本或附件，请重新导出为普通PDF"
            start = data.find(name, start + 1)
    return None
