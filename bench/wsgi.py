"""The app as gunicorn serves it in the benchmark, plus one bare JSON endpoint: the framework ceiling.

The ceiling goes through the same app, extensions and after-request hooks as every other view; it
only skips our own work (auth, policy, SQL), so the ratio shows what our code costs."""
from __future__ import annotations

from flask import jsonify

from backend import create_app
from backend.request_context import jwt_required

app = create_app()


@app.get("/_bench/ceiling")
def ceiling():
    return jsonify({"ok": True})


@app.get("/_bench/signed-in")
@jwt_required()
def signed_in():
    """The ceiling plus only the sign-in check (the token verified once per worker; its standing, one Redis round
    trip)."""
    return jsonify({"ok": True})
