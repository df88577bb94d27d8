"""Photo uploads shared by every form with photos: the size limit the uploader checks before sending, and the
thumbnails of photos the server holds between a form's two steps (held_photos)."""
from __future__ import annotations

from flask import Response, abort

from backend.pages import h5
from backend.request_context import optional_user_id
from backend.services import held_photos
from backend.services.photos import MAX_UPLOAD_BYTES

h5.add_app_template_global(MAX_UPLOAD_BYTES, "max_photo_bytes")


@h5.get("/uploads/held/<token>")
def held_photo(token: str):
    """A held photo's JPEG, to the person who chose it only (anyone else, or after expiry: 404)."""
    user_id = optional_user_id()
    data = held_photos.held_bytes(user_id, token) if user_id else None
    if data is None:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
