"""End to end in a real headless Chromium against the running Streamlit server."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_home_page_renders_in_chromium(server_url: str, browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(server_url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="GAN Music Studio").wait_for(timeout=30_000)
        page.get_by_text("an SVM classifier scores them", exact=False).wait_for(timeout=30_000)
        page.locator("[data-testid='stGraphVizChart'] svg").first.wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    finally:
        page.close()
