"""The web app's speed as a visitor feels it, in a real headless Chromium against a real server.

    python benchmarks/bench_app.py [--sessions 10] [--checkpoint checkpoints/default]

Prints: time from "server healthy" to the first page rendered (cold, then warm), the time from pressing
"Generate and rank" (16 candidates) to the ranked results with the best piece's audio on screen (the
first press loads the model and ranker; later presses are warm), the render time of one 30 s piece,
and the server's resident memory with N sessions open that have each generated once. Asserts nothing.
Targets: first page ≤ 3 s, warm generate + rank ≤ 1.0 s, 30 s audio ≤ 0.3 s, RSS ≤ 1 GB at 10 sessions.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from app_server import CHROMIUM_ARGS, streamlit_server
from bench_load import RESULT_SELECTOR, activate_checkpoint
from playwright.sync_api import TimeoutError as PlaywrightTimeout

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def report(label: str, value: float, unit: str, target: float | None = None) -> None:
    verdict = (
        "" if target is None else f"  (target ≤ {target:g} {unit}: {'ok' if value <= target else 'MISSED'})"
    )
    print(f"{label:<52} {value:9.3f} {unit}{verdict}")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the parse worker, renders), in MB."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if proc.name == str(pid) or fields.get("PPid", "").strip() == str(pid):
            total += int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
    return total


def first_render_s(browser, url: str) -> float:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    started = time.monotonic()
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name="GAN Music Studio").wait_for(timeout=60_000)
    page.locator("[data-testid='stGraphVizChart'] svg").first.wait_for(timeout=60_000)
    elapsed = time.monotonic() - started
    page.close()
    return elapsed


SCRIPT_STATE = "document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state')"


def wait_for_script(page, running: bool, timeout_ms: float) -> None:
    condition = "===" if running else "!=="
    page.wait_for_function(f"() => {SCRIPT_STATE} {condition} 'running'", timeout=timeout_ms)


def generate_times(page, presses: int) -> list[float]:
    """Seconds from each press of the button to the ranked results with the best piece's audio."""
    times = []
    for press in range(presses):
        page.get_by_label("Seed", exact=True).and_(page.get_by_test_id("stNumberInputField")).fill(
            str(100 + press)
        )
        page.get_by_label("Seed", exact=True).and_(page.get_by_test_id("stNumberInputField")).press("Enter")
        wait_for_script(page, running=False, timeout_ms=60_000)
        started = time.monotonic()
        page.get_by_role("button", name="Generate and rank").click()
        with contextlib.suppress(PlaywrightTimeout):  # a very fast run may finish before we look
            wait_for_script(page, running=True, timeout_ms=2_000)
        wait_for_script(page, running=False, timeout_ms=120_000)
        page.locator(RESULT_SELECTOR).first.wait_for(timeout=120_000)
        times.append(time.monotonic() - started)
    return times


def open_sessions(browser, url: str, n: int) -> list:
    pages = []
    for _ in range(n):
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{url}/generate", wait_until="domcontentloaded")
        page.get_by_role("button", name="Generate and rank").click()
        page.locator(RESULT_SELECTOR).first.wait_for(timeout=180_000)
        pages.append(page)
    return pages


def audio_render_s() -> float:
    import numpy as np

    from core.audio import RenderConfig, render_wav
    from core.music.pianoroll import roll_from_arrays, roll_to_pretty_midi

    rng = np.random.default_rng(0)
    active = np.zeros((4 * 50, 48), dtype=bool)  # 50 beats at 100 bpm = 30 s
    for voice, low in enumerate((10, 18, 24, 30)):
        pitches = low + rng.integers(0, 8, size=active.shape[0] // 4).repeat(4)
        active[np.arange(active.shape[0]), pitches] = True
        del voice
    midi = roll_to_pretty_midi(roll_from_arrays(active, tempo_bpm=100.0))
    started = time.perf_counter()
    render_wav(midi, RenderConfig(use_cache=False))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10, help="sessions open for the memory figure")
    parser.add_argument("--presses", type=int, default=5, help="warm generate + rank presses to time")
    parser.add_argument("--checkpoint", type=Path, default=REPO / "checkpoints" / "default")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    runs_dir = Path(tempfile.mkdtemp(prefix="bench-app-"))
    activate_checkpoint(runs_dir, args.checkpoint)
    servers: list = []
    try:
        with streamlit_server(runs_dir, started=servers) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
            )
            report("first page rendered after the server is up, cold", first_render_s(browser, url), "s", 3.0)
            report("first page rendered, warm", first_render_s(browser, url), "s", 3.0)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/generate", wait_until="domcontentloaded")
            first = generate_times(page, 1)[0]
            report("generate 16 + rank, first press (loads model)", first, "s")
            warm = generate_times(page, args.presses)
            report(f"generate 16 + rank, warm (median of {len(warm)})", statistics.median(warm), "s", 1.0)
            report("30 s piece rendered to audio (FluidSynth)", audio_render_s(), "s", 0.3)
            open_sessions(browser, url, args.sessions - 1)
            report(f"server RSS with {args.sessions} sessions open", rss_mb(servers[0].pid), "MB", 1024)
            browser.close()
    finally:
        shutil.rmtree(runs_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
