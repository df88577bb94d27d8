"""What every page driven in the browser must hold on a phone."""
from __future__ import annotations

from playwright.sync_api import Page

PHONE_WIDTH = 375


def assert_fits_phone(page: Page) -> None:
    """Nothing on the page may push it wider than the 375 px screen (no sideways scrolling). Measured once the
    page has loaded: before its stylesheet applies, a full-size photo lays out at its natural width."""
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} is {width}px wide"
