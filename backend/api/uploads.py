"""Photo uploads through the API: the body is capped before anything reads it."""
from __future__ import annotations

from functools import wraps

from flask import request
from flask_smorest import abort
from werkzeug.exceptions import RequestEntityTooLarge

from backend.services import photos as photo_service

# Room for the multipart envelope around the photos of at most MAX_UPLOAD_BYTES each.
MULTIPART_SLACK = 64 * 1024


def limit_photo_upload(photos: int = 1):
    """Refuse a body too big for `photos` acceptable photos before anything reads it (413, the photo message)."""

    def decorate(view):
        @wraps(view)
        def limited(*args, **kwargs):
            request.max_content_length = photos * photo_service.MAX_UPLOAD_BYTES + MULTIPART_SLACK
            try:
                return view(*args, **kwargs)
            except RequestEntityTooLarge:
                abort(413, message=photo_service.TOO_LARGE)

        return limited

    return decorate
