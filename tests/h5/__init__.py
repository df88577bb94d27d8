"""Browser tests of the H5 pages (Playwright, system Chromium)."""
