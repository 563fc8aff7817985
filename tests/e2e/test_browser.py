"""End to end in a real headless Chromium against the running Streamlit server.

Walks the studio as a visitor would: Home → Dataset → Train (a tiny run finishes) → Generate & rank
(a ranked table and an <audio> element). Screenshots go to the test's tmp folder, and to
``docs/screenshots/`` when ``GMS_SCREENSHOTS=1`` (how the README's pictures are refreshed).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from tests.support.midi_files import make_midi

PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LONG = 120_000  # ms: training and the first ranker fit on a busy two-core machine


@pytest.fixture
def shots(tmp_path: Path):
    folder = SCREENSHOTS if os.environ.get("GMS_SCREENSHOTS") == "1" else tmp_path

    def take(page, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take


SCRIPT_STATE = "document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state')"


def wait_until_idle(page, started: bool = False) -> None:
    """Wait for the app's script run to end (after it has begun, when ``started``)."""
    if started:
        with contextlib.suppress(PlaywrightTimeout):  # a fast run may be over before we look
            page.wait_for_function(f"() => {SCRIPT_STATE} === 'running'", timeout=5_000)
    page.wait_for_function(f"() => {SCRIPT_STATE} !== 'running'", timeout=LONG)


def open_page(page, url: str, nav_label: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("link", name=nav_label).first.click()


def test_home_page_renders_in_chromium(server_url: str, browser, shots) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(server_url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="GAN Music Studio").wait_for(timeout=30_000)
        page.get_by_text("an SVM classifier scores them", exact=False).wait_for(timeout=30_000)
        page.locator("[data-testid='stGraphVizChart'] svg").first.wait_for(timeout=30_000)
        page.get_by_text("Compute device on this server", exact=False).wait_for(timeout=30_000)
        shots(page, "home")
    finally:
        page.close()


def test_dataset_train_generate_walkthrough(server_url: str, browser, shots, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 2400})  # tall: whole pages in the shots
    page.set_default_timeout(LONG)
    try:
        open_page(page, server_url, "Dataset")
        page.get_by_text("What the corpus contains").wait_for()
        page.locator("[data-testid='stPlotlyChart']").first.wait_for()
        page.get_by_role("button", name="Use this corpus for training").click()
        page.get_by_text("will now train on", exact=False).first.wait_for()
        shots(page, "dataset")

        page.get_by_role("link", name="Train").first.click()
        page.get_by_text("Quick check").first.click()
        page.get_by_role("button", name="Start training").click()
        page.get_by_text(": finished").first.wait_for()
        page.locator("[data-testid='stPlotlyChart']").first.wait_for()
        page.get_by_role("button", name="Use as the generator").click()
        page.get_by_text("The Generate page now uses", exact=False).wait_for()
        shots(page, "train")

        page.get_by_role("link", name="Generate & rank").first.click()
        page.get_by_role("button", name="Generate and rank").click()
        page.get_by_text("SVM ranking").wait_for()
        page.locator("[data-testid='stDataFrame']").first.wait_for()
        page.locator("audio").first.wait_for(state="attached")
        assert page.locator("audio").count() >= 1

        page.locator("[data-testid='stSelectbox']").first.click()  # the generator picker: the shipped model
        page.get_by_role("option", name="Shipped default", exact=False).click()
        wait_until_idle(page)
        page.get_by_role("button", name="Generate and rank").click()
        wait_until_idle(page, started=True)
        page.locator("audio").first.wait_for(state="attached")
        shots(page, "generate")
    except PlaywrightTimeout as timeout:
        where = tmp_path / "at_timeout.png"
        page.screenshot(path=str(where), full_page=True)
        raise AssertionError(f"the page did not get there in time; how it looked: {where}") from timeout
    finally:
        page.close()


def test_a_four_voice_link_writes_named_voices_in_chromium(server_url: str, browser, shots) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.set_default_timeout(LONG)
    query = "model=satb&mode=free&key=D+minor&phrases=2&phrase_bars=2&candidates=4&keep=2&seed=3&show=1"
    try:
        page.goto(f"{server_url}/generate?{query}", wait_until="domcontentloaded")
        page.get_by_text("Four voices").first.wait_for()
        page.get_by_text("Best: #1", exact=False).first.wait_for()  # written at once, as the link says
        page.locator("audio").first.wait_for(state="attached")
        assert page.get_by_role("button", name="MIDI (four tracks)").count() >= 1
        assert page.get_by_role("button", name="MusicXML (opens in MuseScore)").count() >= 1
        link = page.locator("[data-testid='stCode'] code").first.inner_text().strip()
        assert "key=D+minor" in link and "mode=free" in link and "show=1" in link
        shots(page, "generate_four_voices")
    finally:
        page.close()


def test_an_uploaded_melody_is_harmonised_and_a_broken_file_is_refused_in_words(
    server_url: str, browser, tmp_path: Path
) -> None:
    scale = [72, 74, 76, 77, 79, 77, 76, 74, 72, 71, 72, 74, 76, 74, 72, 72]  # quarter notes at 120 bpm
    tune = tmp_path / "tune.mid"
    tune.write_bytes(make_midi([(pitch, 0.5 * i, 0.5 * (i + 1)) for i, pitch in enumerate(scale)]))
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd\x00\x00\x00\x06 not really a MIDI file")
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.set_default_timeout(LONG)
    try:
        page.goto(
            f"{server_url}/generate?model=satb&mode=harmonise&candidates=4&keep=1",
            wait_until="domcontentloaded",
        )
        page.get_by_text("Four voices").first.wait_for()
        page.get_by_text("my MIDI file").first.click()
        chooser = page.locator("[data-testid='stFileUploader'] input[type=file]").first
        chooser.set_input_files(str(broken))
        page.get_by_text("broken.mid cannot be used", exact=False).wait_for()
        chooser.set_input_files(str(tune))
        wait_until_idle(page)
        page.get_by_role("button", name="Write and rank").click()
        page.get_by_text("Best: #1", exact=False).first.wait_for()
        page.get_by_text("cannot travel in a link", exact=False).wait_for()
        assert page.get_by_role("button", name="MIDI (four tracks)").count() == 1
    finally:
        page.close()
