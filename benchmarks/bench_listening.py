"""Load test of "Bach or bot?": N concurrent listeners answer pairs for a while; every answer must be stored
exactly once.

    python benchmarks/bench_listening.py                          # 25 sessions for 120 s (protocol client)
    python benchmarks/bench_listening.py --client browser --sessions 8
    python benchmarks/bench_listening.py --client store           # the SQLite store alone, 25 threads

A server is started here (runs in a temporary folder, a random teacher PIN so that every session is a
student) and a round is opened in its store before the sessions start (8 pairs of 4 bars and the
attention check, the shipped model, the SVM's picks; opening a round through the page is the browser
test's job). One listener goes first (the server loads what the page needs), then the sessions arrive
over 20 s. Each listener starts the test, plays both clips of a pair, answers and waits for "Answer n
saved." (shown only after the answer is committed), with no pause to listen: a stress test. A listener
who has answered every pair is replaced by a new one until the time is up. *Answer-to-stored time* is
from the answer's click to that confirmation.

Clients:

- ``protocol`` (default): each session speaks Streamlit's websocket protocol from Python
  (``benchmarks/st_client.py``) and fetches both clips' audio as a page would; the server does a browser
  session's work, and the machine's cores are not spent on drawing 25 pages.
- ``browser``: each session is a Chromium context clicking the real page (every fourth answer a double
  click). On two cores, 25 Chromium pages alone saturate the machine; use fewer sessions.
- ``store``: threads call the store directly (join, two plays and an answer per pair, each answer sent
  twice): SQLite's part alone, the time of one ``record_answer`` call.

Every client ends by comparing the answers each listener saw confirmed with the database: every one must
be there, exactly once, and nothing else. Prints the figures as JSON; exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from app_server import CHROMIUM_ARGS, streamlit_server

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_load import percentile  # noqa: E402  (the benchmarks folder is on the path when run)

PAIRS = 8
ARRIVAL_S = 20.0
"""The sessions start spread over this many seconds."""
PATIENCE_S = 15.0
"""Seconds a session waits for "Answer n saved" before it clicks again."""
SCRIPT_STATE = "document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state')"
TOTAL = PAIRS + 1  # and the attention check


def open_round(database: Path) -> int:
    """The shipped model's round, written straight into the store the server will read."""
    import torch

    from core.paths import DEFAULT_CHECKPOINT
    from core.ranking.reference import load_ranker
    from core.sampling import load_model
    from core.studio.listening.pairs import RoundSettings, build_round
    from core.studio.listening.store import ListeningStore

    torch.set_num_threads(1)
    settings = RoundSettings(str(DEFAULT_CHECKPOINT), n_pairs=PAIRS)
    stored, pairs = build_round(settings, load_model(DEFAULT_CHECKPOINT), load_ranker())
    stored["model_label"] = "Shipped default"
    return ListeningStore(database).open_round(stored, pairs)


# --- browser client ------------------------------------------------------------------------------------


class Tally:
    """What the sessions saw: confirmed answers per listener, answer-to-stored times, errors."""

    def __init__(self) -> None:
        self.confirmed: Counter[str] = Counter()
        self.seconds: list[float] = []
        self.errors: list[str] = []
        self.retries = 0


async def one_listener(browser, url: str, tally: Tally, deadline: float, timeout_ms: float) -> bool:
    """One listener answers pairs until done or out of time; True when it answered every pair."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        await page.goto(url, wait_until="domcontentloaded")
        await page.get_by_role("heading", name="GAN Music Studio").wait_for()
        await page.get_by_role("link", name="Bach or bot?", exact=True).first.click()
        await page.get_by_role("button", name="Start the test").click()
        listener = None
        for number in range(1, TOTAL + 1):
            if time.monotonic() > deadline:
                return False
            await page.get_by_text(f"Pair {number} of {TOTAL}").wait_for()
            listener = listener or page.url.split("listener=")[-1][:16]
            for clip in ("A", "B"):
                await idle(page)
                await page.get_by_role("button", name=f"Play clip {clip}").click()
                await page.locator("audio").nth(0 if clip == "A" else 1).wait_for(state="attached")
            answer = page.get_by_role("button", name="A is Bach", disabled=False)
            await answer.wait_for()
            await idle(page)
            clicked = time.monotonic()
            await answer_until_saved(page, answer, number, tally)
            tally.seconds.append(time.monotonic() - clicked)
            tally.confirmed[listener] += 1
        return True
    except Exception as error:  # a timeout or a dead page is counted, never a crash of the benchmark
        tally.errors.append(f"{type(error).__name__}: {error}"[:200])
        return False
    finally:
        await context.close()


async def idle(page) -> None:
    """Wait until the page's script run is over (a person sees the page settle before clicking)."""
    await page.wait_for_function(f"() => {SCRIPT_STATE} !== 'running'")


async def answer_until_saved(page, answer, number: int, tally: Tally) -> None:
    """Click the answer (a double click every fourth time) and wait for its confirmation; like a person,
    click again when nothing happens for :data:`PATIENCE_S` (the store keeps the answer once)."""
    saved = page.get_by_text(f"Answer {number} saved")
    for attempt in range(3):
        if attempt:
            tally.retries += 1
        await (answer.dblclick() if number % 4 == 0 else answer.click())
        try:
            await saved.wait_for(timeout=PATIENCE_S * 1000)
            return
        except Exception:  # Playwright's TimeoutError: try again, as a person would
            if await saved.count():
                return
    await saved.wait_for()


async def one_session(
    browser, url: str, tally: Tally, deadline: float, timeout_ms: float, delay_s: float
) -> None:
    await asyncio.sleep(delay_s)  # a class arrives over a few seconds, not in one instant
    while time.monotonic() < deadline:
        await one_listener(browser, url, tally, deadline, timeout_ms)


async def run_browsers(url: str, sessions: int, seconds: float, executable: str, timeout_s: float) -> Tally:
    from playwright.async_api import async_playwright

    tally = Tally()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            warm = Tally()  # one listener first: the server imports and loads what the page needs once
            await one_listener(browser, url, warm, time.monotonic() + 60, timeout_s * 1000)
            tally.errors += warm.errors
            tally.confirmed.update(warm.confirmed)  # checked against the database, but not timed
            deadline = time.monotonic() + seconds
            jobs = [
                one_session(browser, url, tally, deadline, timeout_s * 1000, ARRIVAL_S * i / sessions)
                for i in range(sessions)
            ]
            await asyncio.gather(*jobs)
        finally:
            await browser.close()
    return tally


# --- protocol client ---------------------------------------------------------------------------------


async def protocol_listener(url: str, tally: Tally, deadline: float, timeout_s: float) -> None:
    """One listener over Streamlit's protocol; answers pairs until done or out of time."""
    from st_client import Session

    try:
        async with Session(url, "listening") as session:
            run = await session.run(timeout_s=timeout_s)
            run = await session.run(run.button("Start the test"), timeout_s)
            listener = session.query.split("listener=")[-1][:16]
            for number in range(1, TOTAL + 1):
                if time.monotonic() > deadline or not run.has_text(f"Pair {number} of {TOTAL}"):
                    return
                for clip in ("A", "B"):
                    run = await session.run(run.button(f"Play clip {clip}"), timeout_s)
                for media in run.media_urls():
                    await asyncio.to_thread(session.fetch, media)
                answer = run.button("A is Bach")
                if answer is None or answer.disabled:
                    raise RuntimeError(f"the answer was still locked after both clips (pair {number})")
                sent = time.monotonic()
                run = await session.run(answer, timeout_s)
                saved = run.arrived.get(f"Answer {number} saved.")
                if saved is None:
                    raise RuntimeError(f"no confirmation of answer {number}")
                tally.seconds.append(saved - sent)
                tally.confirmed[listener] += 1
    except Exception as error:  # counted, never a crash of the benchmark
        tally.errors.append(f"{type(error).__name__}: {error}"[:200])


async def protocol_session(url: str, tally: Tally, deadline: float, timeout_s: float, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    while time.monotonic() < deadline:
        await protocol_listener(url, tally, deadline, timeout_s)


async def run_protocol(url: str, sessions: int, seconds: float, timeout_s: float) -> Tally:
    tally, warm = Tally(), Tally()
    await protocol_listener(url, warm, time.monotonic() + 60, timeout_s)
    tally.errors += warm.errors
    tally.confirmed.update(warm.confirmed)  # checked against the database, but not timed
    deadline = time.monotonic() + seconds
    jobs = [
        protocol_session(url, tally, deadline, timeout_s, ARRIVAL_S * i / sessions) for i in range(sessions)
    ]
    await asyncio.gather(*jobs)
    return tally


# --- store-only mode -------------------------------------------------------------------------------


def run_store(database: Path, round_id: int, threads: int, seconds: float) -> Tally:
    from core.studio.listening.plan import ListenerSession
    from core.studio.listening.store import ListeningStore, new_listener_id

    store = ListeningStore(database)
    info = store.round(round_id)
    tally, lock, deadline = Tally(), threading.Lock(), time.monotonic() + seconds

    def worker() -> None:
        while time.monotonic() < deadline:
            session = ListenerSession(store, info, new_listener_id())
            session.join("none")
            while (item := session.current()) is not None and time.monotonic() < deadline:
                session.play(item, "A")
                session.play(item, "B")
                started = time.perf_counter()
                stored = session.answer(item, "A")
                elapsed = time.perf_counter() - started
                session.answer(item, "A")  # sent twice: must be stored once
                with lock:
                    tally.seconds.append(elapsed)
                    tally.confirmed[session.listener] += int(stored)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return tally


# --- checks and figures ------------------------------------------------------------------------------


def check(database: Path, round_id: int, tally: Tally) -> dict:
    """Compare what the listeners saw confirmed with the database."""
    from core.studio.listening.store import ListeningStore

    answers = ListeningStore(database).answers(round_id)
    stored = Counter(answer.listener for answer in answers)
    keys = [(answer.listener, answer.position) for answer in answers]
    missing = sum(max(0, n - stored.get(listener, 0)) for listener, n in tally.confirmed.items())
    return {
        "answers_confirmed": sum(tally.confirmed.values()),
        "answers_stored": len(answers),
        "stored_twice": len(keys) - len(set(keys)),
        "confirmed_but_missing": missing,
        "stored_unconfirmed": len(answers) - sum(min(n, stored[k]) for k, n in tally.confirmed.items()),
        "listeners": len(stored),
        "p50_ms": round(1000 * percentile(tally.seconds, 50), 1),
        "p95_ms": round(1000 * percentile(tally.seconds, 95), 1),
        "max_ms": round(1000 * max(tally.seconds, default=float("nan")), 1),
        "errors": len(tally.errors),
        "answer_clicks_repeated": tally.retries,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", choices=("protocol", "browser", "store"), default="protocol")
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for one step of a session")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None and args.client == "browser":
        print("error: chromium is not installed (use another --client)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gms-listening-") as folder:
        runs = Path(folder)
        database = runs / "listening.sqlite3"
        round_id = open_round(database)
        started = time.monotonic()
        if args.client == "store":
            tally = run_store(database, round_id, args.sessions, args.seconds)
        else:
            os.environ["GMS_TEACHER_PIN"] = secrets.token_hex(4)  # the sessions are students, as in a class
            with streamlit_server(runs) as url:
                if args.client == "browser":
                    job = run_browsers(url, args.sessions, args.seconds, executable, args.timeout)
                else:
                    job = run_protocol(url, args.sessions, args.seconds, args.timeout)
                tally = asyncio.run(job)
        figures = {
            "client": args.client,
            "sessions": args.sessions,
            "seconds": round(time.monotonic() - started, 1),
            **check(database, round_id, tally),
        }
    for error in Counter(tally.errors).most_common(5):
        print(f"error ×{error[1]}: {error[0]}", file=sys.stderr)
    print(json.dumps(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    exact = figures["stored_twice"] == 0 and figures["confirmed_but_missing"] == 0
    return 0 if exact and figures["answers_confirmed"] > 0 and not figures["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
