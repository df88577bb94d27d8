"""An action that cannot be undone is asked about first (issue 15, item 6): what it is, what will happen in one
sentence, and what to know before taking it. Each feature's presenter builds its own; the page shows it as a
confirm step that works without JavaScript (the form posts again with `confirm=1`). The API acts at once: its
clients confirm on their side, and read the same warnings where the feature's detail carries them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Confirmation:
    question: str  # the page's heading, e.g. "开启表决？"
    sentence: str  # what will happen, in one sentence
    button: str  # what the confirming button says
    warnings: tuple[str, ...] = ()
