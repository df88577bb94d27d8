"""Helpers for reading one screen through both doors, the API and the page, as one person: the person's headers
or browser, and what a page offers (its `data-action` marks)."""
from __future__ import annotations

import html
import re

from flask import Flask

from backend.models import Compound, User
from backend.request_context import ENTRY_COOKIE, ENTRY_HEADER
from backend.services.auth import issue_tokens
from backend.services.qr import make_entry_token

ACTION = re.compile(r'data-action="([a-z_]+)"')


def api_headers(user: User | None, entry: Compound | None = None) -> dict[str, str]:
    """A bearer token for `user` (none for a visitor), and the compound's QR entry for one who scanned it."""
    headers = {"Authorization": f"Bearer {issue_tokens(user)[0]}"} if user is not None else {}
    return headers | ({ENTRY_HEADER: make_entry_token(entry)} if entry is not None else {})


def browser(app: Flask, user: User | None, entry: Compound | None = None):
    """A phone signed in as `user` (its sign-in cookie; reading pages needs no CSRF value), holding the compound's
    QR entry for one who scanned it."""
    client = app.test_client()
    if user is not None:
        client.set_cookie("access_token_cookie", issue_tokens(user)[0])
    if entry is not None:
        client.set_cookie(ENTRY_COOKIE, make_entry_token(entry))
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def actions_on(fragment: str) -> set[str]:
    """The actions a page (or a part of it) offers."""
    return set(ACTION.findall(fragment))
