"""Browser fixtures: Debian's Chromium driven by Playwright, in a WeChat-like 375×667 phone context."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# `playwright install` cannot download browsers here (NOTES): use the system Chromium, quietly.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
WECHAT_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 "
    "MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
PHONE = {"width": 375, "height": 667}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # git-ignored


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium) -> Iterator[Callable[[], BrowserContext]]:
    """Opens a fresh WeChat-like phone (its own cookies) each call; all are closed after the test."""
    contexts: list[BrowserContext] = []

    def open_phone() -> BrowserContext:
        context = chromium.new_context(
            viewport=PHONE, user_agent=WECHAT_USER_AGENT, locale="zh-CN", timezone_id="Asia/Shanghai",
            device_scale_factor=2, is_mobile=True, has_touch=True,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_phone
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
