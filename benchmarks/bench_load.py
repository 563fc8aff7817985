"""Load test: N concurrent browser sessions each generate and rank pieces on one Streamlit server.

    python benchmarks/bench_load.py                      # 20 sessions, shipped checkpoint
    python benchmarks/bench_load.py --sessions 5 --json out.json
    python benchmarks/bench_load.py --url http://127.0.0.1:8501   # an already running server

Every session is its own Playwright browser context (separate cookies and websocket) in one headless
Debian Chromium. A session opens the "Generate & rank" page, presses "Generate and rank" and waits for
the best piece's audio player (the ranking, charts and audio are all shown) or an error. Prints one line
per session and the p50/p95/max latency of the button press to the ranking, and of the page load; when a
session failed, the server log's tracebacks too. Exit status 1 when any session failed.

The server is started here on a free loopback port (runs in a temporary folder) unless ``--url`` is
given, with Streamlit's file watcher off as a class server should run: with it on, a burst of writes
under the repository (runs, caches, edits) makes it unload the app's modules while sessions import them.
``--checkpoint`` makes another generator the active one for that server (used by every session).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from app_server import CHROMIUM_ARGS, streamlit_server

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BUTTON = "Generate and rank"
RESULT_SELECTOR = "[data-testid='stAudio']"
"""The best piece's audio player: the last thing a successful run of the page shows."""
ERROR_SELECTOR = "[data-testid='stException'], [data-testid='stAlertContentError']"


@dataclass
class SessionResult:
    """One browser session's outcome; latencies in seconds."""

    session: int
    ok: bool
    load_s: float
    generate_s: float
    error: str = ""


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def one_session(browser, url: str, index: int, timeout_s: float) -> SessionResult:
    """Open the page, press the button, wait for the ranking; never raises."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    started = time.monotonic()
    load_s = generate_s = float("nan")
    try:
        await page.goto(f"{url}/generate", wait_until="domcontentloaded")
        button = page.get_by_role("button", name=BUTTON)
        await button.wait_for(timeout=timeout_s * 1000)
        load_s = time.monotonic() - started
        clicked = time.monotonic()
        await button.click()
        outcome = page.locator(RESULT_SELECTOR).or_(page.locator(ERROR_SELECTOR))
        await outcome.first.wait_for(timeout=timeout_s * 1000)
        generate_s = time.monotonic() - clicked
        errors = page.locator(ERROR_SELECTOR)
        if await errors.count():
            message = (await errors.first.inner_text()).strip().splitlines()[0][:200]
            return SessionResult(index, False, load_s, generate_s, message)
        return SessionResult(index, True, load_s, generate_s)
    except Exception as error:  # a timeout or a dead page is a failed session, not a crash of the benchmark
        return SessionResult(index, False, load_s, generate_s, f"{type(error).__name__}: {error}"[:200])
    finally:
        await context.close()


async def run_sessions(url: str, sessions: int, timeout_s: float, executable: str) -> list[SessionResult]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            return list(
                await asyncio.gather(*(one_session(browser, url, i, timeout_s) for i in range(sessions)))
            )
        finally:
            await browser.close()


def concurrent_sessions(url: str, sessions: int, timeout_s: float, executable: str) -> list[SessionResult]:
    """Run the sessions on an event loop of their own thread (callers may already run Playwright's sync
    API, whose loop forbids ``asyncio.run`` in the same thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run_sessions(url, sessions, timeout_s, executable)).result()


def warm_up(url: str, executable: str, timeout_s: float) -> SessionResult:
    """One session first, so that the generator and ranker are loaded (and fitted if needed) once."""
    return concurrent_sessions(url, 1, timeout_s, executable)[0]


def summary(results: list[SessionResult], wall_s: float) -> dict:
    ok = [r for r in results if r.ok]
    generate = [r.generate_s for r in ok]
    load = [r.load_s for r in results if r.load_s == r.load_s]
    return {
        "sessions": len(results),
        "served": len(ok),
        "errors": len(results) - len(ok),
        "wall_s": round(wall_s, 2),
        "generate_p50_s": round(percentile(generate, 50), 2),
        "generate_p95_s": round(percentile(generate, 95), 2),
        "generate_max_s": round(max(generate, default=float("nan")), 2),
        "load_p95_s": round(percentile(load, 95), 2),
    }


def measure(url: str, sessions: int, timeout_s: float, executable: str) -> tuple[list[SessionResult], dict]:
    """Warm the server with one session, then run ``sessions`` at once; returns results and the summary."""
    warm = warm_up(url, executable, timeout_s)
    if not warm.ok:
        return [warm], summary([warm], 0.0)
    started = time.monotonic()
    results = concurrent_sessions(url, sessions, timeout_s, executable)
    return results, summary(results, time.monotonic() - started)


def activate_checkpoint(runs_dir: Path, checkpoint: Path) -> None:
    from core.paths import RUNS_ENV
    from core.studio import choices

    os.environ[RUNS_ENV] = str(runs_dir)
    choices.set_active_checkpoint(checkpoint.resolve())


def print_tracebacks(log: Path, limit: int = 3) -> None:
    """The server log's first few tracebacks (the page redacts them)."""
    blocks = log.read_text(errors="replace").split("Traceback (most recent call last):")[1:]
    for block in blocks[:limit]:
        print("server traceback:" + block[-3000:], file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--checkpoint", type=Path, help="generator to make active (default: the shipped one)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per session step")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--log", type=Path, help="keep the started server's log here")
    parser.add_argument(
        "--warm-audio",
        action="store_true",
        help="reuse rendered audio (default: every piece is rendered anew)",
    )
    args = parser.parse_args(argv)
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        print("error: chromium is not installed", file=sys.stderr)
        return 2
    if args.url and args.checkpoint:
        parser.error("--checkpoint only applies to a server this script starts (leave out --url)")
    if args.checkpoint is None and not (REPO / "checkpoints" / "default" / "model.pt").exists():
        print("error: no shipped checkpoint yet (checkpoints/default); pass --checkpoint", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gms-load-") as folder:
        runs_dir = Path(folder)
        if args.checkpoint is not None:
            activate_checkpoint(runs_dir, args.checkpoint)
        if args.url:
            results, figures = measure(args.url, args.sessions, args.timeout, executable)
        else:
            with streamlit_server(runs_dir, cold_audio=not args.warm_audio) as url:
                results, figures = measure(url, args.sessions, args.timeout, executable)
            if figures["errors"]:
                print_tracebacks(runs_dir / "streamlit.log")
            if args.log:
                shutil.copyfile(runs_dir / "streamlit.log", args.log)
    for result in results:
        state = "ok" if result.ok else f"ERROR {result.error}"
        times = f"load {result.load_s:6.2f} s, generate {result.generate_s:6.2f} s"
        print(f"session {result.session:2d}: {times}, {state}")
    print(json.dumps(figures))
    if args.json:
        args.json.write_text(
            json.dumps({"summary": figures, "sessions": [asdict(r) for r in results]}, indent=2)
        )
    return 0 if figures["errors"] == 0 and figures["served"] == args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
