"""The compound home on a phone over emulated Fast 3G: small when cold, nothing big blocking the first paint, and
nothing asked again when warm. The cold load time is printed for docs/benchmarks.md, not asserted (it depends on
the machine's load)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backend.domain.roles import Role
from backend.extensions import db
from tests.support import TEST_PASSWORD, first_household

pytestmark = pytest.mark.live

# Chrome DevTools' Fast 3G as the issue gives it: 1.6 Mbps down, 750 kbps up, 150 ms round trip.
FAST_3G = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8,
    "uploadThroughput": 750 * 1024 / 8,
}
MAX_COLD_BYTES = 60 * 1024
MAX_BLOCKING_BYTES = 30 * 1024


def test_compound_home_is_light_on_fast_3g_and_cached_when_warm(app, live_server, make_compound, make_user, phone):
    compound = make_compound(name="金沙苑小区", buildings=2, households_per_building=4)
    make_user(role=Role.OWNER, compound=compound, household=first_household(compound), username="slow-owner")
    code = compound.code
    home = f"{live_server}/h5/c/{code}"
    db.session.commit()
    db.session.close()

    page = phone().new_page()
    page.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill("slow-owner")
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page).to_have_url(home)

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    cdp.send("Network.emulateNetworkConditions", FAST_3G)
    responses: list[dict] = []
    transferred: dict[str, float] = {}
    cdp.on("Network.responseReceived", lambda event: responses.append(event))
    cdp.on("Network.loadingFinished", lambda event: transferred.__setitem__(event["requestId"], event["encodedDataLength"]))

    # Cold: an empty cache, as on the first scan of the compound's QR poster.
    page.goto(home)
    page.wait_for_load_state("load")
    cold_bytes = sum(transferred.values())
    assert cold_bytes <= MAX_COLD_BYTES, f"{cold_bytes:.0f} bytes cold"
    blocking = page.evaluate(
        """performance.getEntriesByType('resource')
             .filter(e => e.renderBlockingStatus === 'blocking')
             .map(e => [e.name, e.transferSize])"""
    )
    assert blocking, "the stylesheets block rendering; the measurement must see them"
    assert all(size <= MAX_BLOCKING_BYTES for _name, size in blocking), blocking
    cold_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    print(f"\ncompound home, Fast 3G, cold: {cold_ms:.0f} ms, {cold_bytes / 1024:.1f} KB transferred")

    # Warm: the page itself comes again (it is private and may have changed), every file from the cache.
    responses.clear()
    page.reload()
    page.wait_for_load_state("load")
    assert [r["response"]["status"] for r in responses if r["response"]["status"] == 304] == []
    # A file taken from the cache transfers nothing; a revalidated one (304) would transfer its headers.
    files = page.evaluate("performance.getEntriesByType('resource').map(e => [e.name, e.transferSize])")
    assert any("/h5/static/" in name for name, _size in files), "the warm load must still use the stylesheets"
    assert all(size == 0 for _name, size in files), files
    warm_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    print(f"compound home, Fast 3G, warm: {warm_ms:.0f} ms")
