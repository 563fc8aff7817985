"""A class in real browsers: a teacher and three students run a "Bach or bot?" round on one server.

Each person is their own Playwright browser context (own cookies, own websocket) in Debian's Chromium.
The server has a teacher PIN, so the students are students. Checked: a student cannot answer before
playing both clips, answers are stored exactly once, the teacher's live results update, a reload loses
nothing, the reveal and the CSV export work. Screenshots of the teacher's view and of GAN Lab go to
``docs/screenshots/`` when ``GMS_SCREENSHOTS=1``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.studio.listening.store import ListeningStore

PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PIN = "4711"
LONG = 180_000  # ms: opening a round renders every clip on a busy two-core machine
SCRIPT_STATE = "document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state')"


@pytest.fixture
def class_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A server of its own with a teacher PIN; yields its URL and its runs folder."""
    from app_server import streamlit_server

    monkeypatch.setenv("GMS_TEACHER_PIN", PIN)
    runs = tmp_path / "runs"
    runs.mkdir()
    with streamlit_server(runs) as url:
        yield url, runs


def shoot(page, name: str, tmp_path: Path) -> None:
    folder = SCREENSHOTS if os.environ.get("GMS_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def idle(page, started: bool = True) -> None:
    """Wait for the script run a click started to end."""
    if started:
        with contextlib.suppress(PlaywrightTimeout):  # a fast run may be over before we look
            page.wait_for_function(f"() => {SCRIPT_STATE} === 'running'", timeout=3_000)
    page.wait_for_function(f"() => {SCRIPT_STATE} !== 'running'", timeout=LONG)


def person(browser, url: str, height: int = 1400):
    context = browser.new_context(viewport={"width": 1300, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(LONG)
    open_page(page, url, "Bach or bot?")
    return context, page


def open_page(page, url: str, title: str) -> None:
    """Home first, then the page by its link (as a visitor would). Until the entry script has run once,
    Streamlit lists the files of pages/ instead ("gan lab"): wait for Home, and match names exactly."""
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name="GAN Music Studio").wait_for()
    page.get_by_role("link", name=title, exact=True).first.click()
    page.get_by_role("heading", name=title).first.wait_for()


def sign_in_as_teacher(page) -> None:
    page.get_by_label("Teacher PIN", exact=True).fill(PIN)
    page.get_by_role("button", name="Sign in as the teacher").click()
    page.get_by_text("signed in as the teacher", exact=False).wait_for()


def open_round(page, pairs: int = 2) -> None:
    slider = page.locator("[data-testid='stSlider'] input").first
    slider.focus()
    slider.press("Home")  # the smallest round: 2 pairs
    idle(page, started=False)
    page.get_by_role("button", name="Open a new round").click()
    page.get_by_text("Round 1 is", exact=False).wait_for()


def answer_first_pair(page, experience: str | None = None) -> None:
    """Start, check the answer is locked until both clips were played, play both, answer A."""
    if experience:
        page.get_by_text(experience).click()
    page.get_by_role("button", name="Start the test").click()
    page.get_by_text("Pair 1 of 3").wait_for()
    answer = page.get_by_role("button", name="A is Bach")
    assert answer.is_disabled(), "answering before playing both clips must be impossible"
    page.get_by_role("button", name="Play clip A").click()
    page.locator("audio").first.wait_for(state="attached")
    idle(page)
    assert page.get_by_role("button", name="A is Bach").is_disabled()
    page.get_by_role("button", name="Play clip B").click()
    page.locator("audio").nth(1).wait_for(state="attached")
    idle(page)
    page.get_by_role("button", name="A is Bach").click()
    page.get_by_text("Answer 1 saved").wait_for()
    page.get_by_text("Pair 2 of 3").wait_for()


def test_a_class_round_with_three_students_and_a_teacher(class_server, browser, tmp_path: Path) -> None:
    url, runs = class_server
    teacher_context, teacher = person(browser, url, height=2600)
    students = [person(browser, url) for _ in range(3)]
    try:
        sign_in_as_teacher(teacher)
        open_round(teacher)
        for (_, page), experience in zip(students, ("I play an instrument or sing", None, None), strict=True):
            page.reload(wait_until="domcontentloaded")  # the round opened after they arrived
            page.get_by_text("which one is Bach?", exact=False).first.wait_for()
            answer_first_pair(page, experience)
        teacher.get_by_text("3 listeners", exact=False).wait_for()  # the live results caught up

        _, reloaded = students[0]
        reloaded.reload(wait_until="domcontentloaded")  # the same address: the same listener
        reloaded.get_by_text("Pair 2 of 3").wait_for()
        assert reloaded.get_by_role("button", name="Start the test").count() == 0

        store = ListeningStore(runs / "listening.sqlite3")
        round_id = store.latest_round().id
        answers = store.answers(round_id)
        assert len(answers) == 3 and len({a.listener for a in answers}) == 3
        assert sorted(a.experience for a in answers) == ["instrument", "unsaid", "unsaid"]

        _, student = students[1]
        assert student.get_by_text("appear here when the teacher reveals", exact=False).count() == 1
        teacher.get_by_role("button", name="Reveal the answers").click()
        teacher.get_by_text("The answers, and what the machines said").wait_for()
        student.get_by_text("Class results (live)").wait_for()  # the students' fragment refreshes
        with teacher.expect_download() as download:
            teacher.get_by_role("button", name="Answers as CSV").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        assert len(rows) == 3 and {row["pair"] for row in rows} <= {"1", "2", "3"}
        shoot(teacher, "listening", tmp_path)
    finally:
        for context, _ in [(teacher_context, teacher), *students]:
            context.close()


def test_gan_lab_steps_in_the_browser(class_server, browser, tmp_path: Path) -> None:
    url, _ = class_server
    context = browser.new_context(viewport={"width": 1300, "height": 3000})
    page = context.new_page()
    page.set_default_timeout(LONG)
    try:
        open_page(page, url, "GAN Lab")
        page.get_by_text("Only the teacher can step the GAN", exact=False).wait_for()
        sign_in_as_teacher(page)
        page.get_by_role("button", name="Load").click()
        page.get_by_text("After 0 D steps and 0 G steps").wait_for()
        page.get_by_role("button", name="Step D").click()
        page.get_by_text("After 1 D steps and 0 G steps").wait_for()
        page.get_by_role("button", name="Step both").click()
        page.get_by_text("After 2 D steps and 1 G steps").wait_for()
        page.locator("[data-testid='stPlotlyChart']").nth(3).wait_for()  # the critic's figure too
        idle(page, started=False)
        shoot(page, "gan_lab", tmp_path)
    finally:
        context.close()
