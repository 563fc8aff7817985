"""A class on one server, in a real Chromium: browser contexts are the teacher and two students.

With ``GMS_TEACHER_PIN`` set, a student has no way to stop or activate the class's run or to change the
class's corpus; the teacher can, after entering the PIN; a student's own Quick-check run queues and
trains, and only its owner or the teacher can stop it. Without a PIN, ``/generate?seed=7&candidates=8``
opens with those settings and the copied link gives the same ranked pieces in a fresh context; no page
asks anything of a server other than the studio's own.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest
from app_server import streamlit_server  # benchmarks/ is on sys.path: tests/e2e/conftest.py puts it there

sync_api = pytest.importorskip("playwright.sync_api")
PlaywrightTimeout, expect = sync_api.TimeoutError, sync_api.expect

pytestmark = pytest.mark.browser

PIN = "2468"
LONG = 120_000  # ms: a training process starting on a busy two-core machine


@pytest.fixture(scope="module")
def class_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_server(tmp_path_factory.mktemp("class"), env={"GMS_TEACHER_PIN": PIN}) as url:
        yield url


@pytest.fixture
def sessions(browser):
    """A factory of browser sessions (each its own context: cookies, websocket, Streamlit session)."""
    contexts = []

    def new_session():
        context = browser.new_context(viewport={"width": 1400, "height": 1600})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(LONG)
        return page

    yield new_session
    for context in contexts:
        context.close()


def open_page(page, url: str, path: str, heading: str) -> None:
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    page.get_by_role("heading", name=heading).first.wait_for()


def button(page, label: str):
    return page.get_by_role("button", name=label, exact=True)


def sign_in(page) -> None:
    page.get_by_label("Teacher PIN", exact=True).fill(PIN)
    button(page, "Sign in as the teacher").click()
    page.get_by_text("signed in as the teacher", exact=False).wait_for()


SCRIPT_STATE = "document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state')"


def wait_until_idle(page) -> None:
    """Wait for the script run that a click started to begin (briefly) and then to end."""
    with contextlib.suppress(PlaywrightTimeout):  # a fast run may be over before we look
        page.wait_for_function(f"() => {SCRIPT_STATE} === 'running'", timeout=5_000)
    page.wait_for_function(f"() => {SCRIPT_STATE} !== 'running'", timeout=LONG)


def pick_run(page, run_id: str) -> None:
    """Choose a run in the runs list's picker (a combobox: nothing to do when it already shows the run; a
    refresh that closes the open list: open it again)."""
    picker = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text("Run", exact=True))
    chosen = picker.get_by_role("combobox")
    for _ in range(3):
        if chosen.input_value() == run_id:
            return
        picker.get_by_role("button", name="Open").click()
        with contextlib.suppress(PlaywrightTimeout):
            page.get_by_role("option", name=run_id).click(timeout=10_000)
    assert chosen.input_value() == run_id, f"could not choose {run_id}"


def test_a_student_cannot_touch_the_class_run_and_their_own_run_is_theirs(class_url: str, sessions) -> None:
    teacher, student, other = sessions(), sessions(), sessions()
    open_page(teacher, class_url, "train", "Train the GAN")
    assert button(teacher, "Start training").count() == 0, "a visitor is a student until the PIN"
    sign_in(teacher)
    teacher.get_by_text("What students may do").click()
    teacher.get_by_text("Students may train small runs of their own").click()
    button(teacher, "Save for the class").click()
    teacher.get_by_text("Saved", exact=False).wait_for()
    button(teacher, "Start training").click()  # the Classroom preset: long enough to look at
    teacher.get_by_text(re.compile(r"\(the class\): running")).wait_for()

    open_page(student, class_url, "train", "Train the GAN")
    student.get_by_text(re.compile(r"\(the class\): running")).wait_for()
    student.get_by_text("Only the teacher can stop this run.").wait_for()
    for label in (
        "Start training",
        "Stop (saves a checkpoint)",
        "Stop this run",
        "Use as the class's generator",
    ):
        assert button(student, label).count() == 0, label
    assert button(student, "Resume this run").is_disabled()
    open_page(student, class_url, "dataset", "Dataset")
    button(student, "Use this corpus for my own runs").wait_for()
    assert button(student, "Use this corpus for the class").count() == 0

    button(teacher, "Stop (saves a checkpoint)").click()
    teacher.get_by_text(re.compile(r"\(the class\): stopped")).wait_for()
    button(teacher, "Use as the class's generator").click()
    teacher.get_by_text("The Generate page now uses", exact=False).wait_for()

    open_page(student, class_url, "train", "Train the GAN")
    student.get_by_text("Quick check", exact=True).click()
    button(student, "Queue my run").click()
    student.get_by_text(re.compile(r"\(yours\): (running|finished)")).wait_for()
    own_run = re.search(r"Run (\S+) \(yours\)", student.get_by_text("(yours)").first.inner_text()).group(1)
    open_page(other, class_url, "train", "Train the GAN")
    assert other.get_by_text(own_run).count() == 0, "another student does not see it"
    assert button(other, "Stop (saves a checkpoint)").count() == 0

    teacher.get_by_role("link", name="Glossary").first.click()  # away and back in the same session
    teacher.get_by_role("heading", name="Glossary").wait_for()
    teacher.get_by_role("link", name="Train").first.click()
    teacher.get_by_role("heading", name="Train the GAN").wait_for()
    wait_until_idle(teacher)
    pick_run(teacher, own_run)
    stop = button(teacher, "Stop this run")
    if stop.count():  # a Quick check may finish before the teacher gets to it
        stop.click()
    student.get_by_text(re.compile(r"\(yours\): (stopped|finished)")).wait_for()


def test_a_link_opens_with_its_settings_and_reproduces_the_pieces(server_url: str, sessions) -> None:
    first, fresh = sessions(), sessions()
    outside = []
    for page in (first, fresh):
        page.on(
            "request",
            lambda request: outside.append(request.url) if not _local(request.url, server_url) else 0,
        )
    open_page(first, server_url, "generate?seed=7&candidates=8", "Generate & rank")
    expect(first.get_by_label("Seed", exact=True)).to_have_value("7")
    expect(first.get_by_role("slider", name="Candidates to generate")).to_have_value("8")
    button(first, "Generate and rank").click()
    first.get_by_text("Share these pieces").wait_for()
    link = first.locator("[data-testid='stCode'] code").first.inner_text().strip()
    assert "seed=7" in link and "candidates=8" in link and "show=1" in link
    ranked = _ranking(first)

    fresh.goto(link, wait_until="domcontentloaded")
    fresh.get_by_text("Share these pieces").wait_for()
    assert _ranking(fresh) == ranked
    assert not outside, outside


def _local(url: str, server_url: str) -> bool:
    return url.startswith((server_url, "data:", "blob:"))


def _ranking(page) -> list[str]:
    """The kept pieces' headings ("Best: #1 · candidate 5 · …"), in order."""
    page.locator("[data-testid='stExpander'] summary").first.wait_for()
    return [text.strip() for text in page.locator("[data-testid='stExpander'] summary").all_inner_texts()]
