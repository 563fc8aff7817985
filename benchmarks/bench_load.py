"""Load test of a class: N student sessions generate and browse while the teacher's run trains.

    python benchmarks/bench_load.py                    # 25 students, the teacher's run training
    python benchmarks/bench_load.py --sessions 5 --no-teacher-run --json out.json
    python benchmarks/bench_load.py --url http://127.0.0.1:8501   # an already running server

The server is started here (``streamlit run streamlit_app.py`` on a free loopback port, runs in a
temporary folder, a teacher PIN set so every session is a student, Streamlit's file watcher off as a
class server should run) unless ``--url`` is given. The teacher's run is the class run a teacher starts
on Train (the Full preset, time-limited); the script measures its training speed (steps per second, from
its ``status.json``) alone for ``--baseline`` seconds, then while the students work.

Every student is its own Playwright browser context (cookies, websocket, Streamlit session) in one
headless Debian Chromium, run at a lower priority (``--browser-nice``: a class's browsers run on the
students' own computers, not on the server); they arrive evenly over ``--ramp`` seconds. A student
opens ``/generate?seed=<n>`` (page time: until the page is ready), presses "Generate and rank" (generate
time: until the best piece's audio player or an error), then opens Train, Glossary and Home from the
navigation (page time each: until the page's heading shows and its script run ends). Prints a line per
session, the p50/p95 of page and generate times, the teacher's run speed alone and under load, and the
CPU the server, the browsers and the training took (from ``/proc``). Exit status 1 when any session failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cpu_meter
from app_server import CHROMIUM_ARGS, streamlit_server

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BUTTON = "Generate and rank"
RESULT_SELECTOR = "[data-testid='stAudio']"
"""The best piece's audio player: the last thing a successful run of the page shows."""
ERROR_SELECTOR = "[data-testid='stException'], [data-testid='stAlertContentError']"
BROWSE = (("Train", "Train the GAN"), ("Glossary", "Glossary"), ("Home", "GAN Music Studio"))
"""Pages a student opens after generating: (navigation link, the page's heading)."""
SCRIPT_STATE = "document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state')"
PIN = "load-test-teacher"


@dataclass
class SessionResult:
    """One browser session's outcome; latencies in seconds (``pages_s``: the pages browsed after)."""

    session: int
    ok: bool
    load_s: float
    generate_s: float
    error: str = ""
    pages_s: list[float] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def settled(page, timeout_s: float) -> None:
    """Wait until the page's script run has ended."""
    await page.wait_for_function(f"() => {SCRIPT_STATE} === 'notRunning'", timeout=timeout_s * 1000)


async def browse(page, timeout_s: float) -> list[float]:
    """Open each page of :data:`BROWSE` from the navigation; seconds until each is ready."""
    times = []
    for link, heading in BROWSE:
        started = time.monotonic()
        await page.get_by_role("link", name=link, exact=True).first.click()
        await page.get_by_role("heading", name=heading).first.wait_for(timeout=timeout_s * 1000)
        await settled(page, timeout_s)
        times.append(time.monotonic() - started)
    return times


async def one_session(
    browser, url: str, index: int, timeout_s: float, pages: bool = False, delay_s: float = 0.0
) -> SessionResult:
    """After ``delay_s``, open the page, press the button, wait for the ranking, browse; never raises."""
    await asyncio.sleep(delay_s)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    started = time.monotonic()
    result = SessionResult(index, False, float("nan"), float("nan"))
    try:
        await page.goto(f"{url}/generate?seed={index + 1}", wait_until="domcontentloaded")
        button = page.get_by_role("button", name=BUTTON)
        await button.wait_for(timeout=timeout_s * 1000)
        await settled(page, timeout_s)
        result.load_s = time.monotonic() - started
        clicked = time.monotonic()
        await button.click()
        outcome = page.locator(RESULT_SELECTOR).or_(page.locator(ERROR_SELECTOR))
        await outcome.first.wait_for(timeout=timeout_s * 1000)
        result.generate_s = time.monotonic() - clicked
        errors = page.locator(ERROR_SELECTOR)
        if await errors.count():
            result.error = (await errors.first.inner_text()).strip().splitlines()[0][:200]
            return result
        if pages:
            result.pages_s = await browse(page, timeout_s)
        result.ok = True
    except Exception as error:  # a timeout or a dead page is a failed session, not a crash of the benchmark
        result.error = f"{type(error).__name__}: {error}"[:200]
    finally:
        await context.close()
    return result


async def run_sessions(
    url: str, sessions: int, timeout_s: float, executable: str, pages: bool, ramp_s: float, when_done=None
) -> list[SessionResult]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            delays = [ramp_s * i / max(sessions - 1, 1) for i in range(sessions)]
            tasks = (one_session(browser, url, i, timeout_s, pages, delays[i]) for i in range(sessions))
            results = list(await asyncio.gather(*tasks))
            if when_done:
                when_done()  # while the browser's processes still exist (their CPU time is read from them)
            return results
        finally:
            await browser.close()


def concurrent_sessions(
    url: str,
    sessions: int,
    timeout_s: float,
    executable: str,
    pages: bool = False,
    ramp_s: float = 0.0,
    when_done=None,
) -> list[SessionResult]:
    """Run the sessions (arriving evenly over ``ramp_s`` seconds) on an event loop of their own thread
    (callers may already run Playwright's sync API, whose loop forbids ``asyncio.run`` in that thread);
    ``when_done()`` is called when the last session ended, before the browser closes."""
    with ThreadPoolExecutor(1) as pool:
        job = run_sessions(url, sessions, timeout_s, executable, pages, ramp_s, when_done)
        return pool.submit(asyncio.run, job).result()


def warm_up(url: str, executable: str, timeout_s: float) -> SessionResult:
    """One session first, so that the generator and ranker are loaded once."""
    return concurrent_sessions(url, 1, timeout_s, executable, pages=True)[0]


def summary(results: list[SessionResult], wall_s: float) -> dict:
    ok = [r for r in results if r.ok]
    generate = [r.generate_s for r in ok]
    pages = [r.load_s for r in results if r.load_s == r.load_s] + [t for r in ok for t in r.pages_s]
    return {
        "sessions": len(results),
        "served": len(ok),
        "errors": len(results) - len(ok),
        "wall_s": round(wall_s, 2),
        "page_p50_s": round(percentile(pages, 50), 2),
        "page_p95_s": round(percentile(pages, 95), 2),
        "generate_p50_s": round(percentile(generate, 50), 2),
        "generate_p95_s": round(percentile(generate, 95), 2),
        "generate_max_s": round(max(generate, default=float("nan")), 2),
        "load_p95_s": round(percentile([r.load_s for r in results if r.load_s == r.load_s], 95), 2),
    }


class TeacherRun:
    """The class run a teacher starts on Train, and its speed in steps per second of wall time."""

    def __init__(self, minutes: float) -> None:
        from core.studio import jobs, queue
        from core.training.presets import preset_config

        self.jobs = jobs
        config = preset_config("Full", max_minutes=minutes)
        self.run_id = queue.submit(config, label="Full")

    @property
    def pid(self) -> int:
        return int(json.loads((self.jobs.runs_root() / self.run_id / "job.json").read_text())["pid"])

    def step(self) -> int:
        return self.jobs.run_info(self.run_id).step

    def wait_until_training(self, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while self.step() < 5:  # past the first steps' warm-up
            if time.monotonic() > deadline or not self.jobs.run_info(self.run_id).alive:
                raise RuntimeError(f"the teacher's run did not start: {self.jobs.tail_log(self.run_id)}")
            time.sleep(0.5)

    def speed(self, seconds: float) -> float:
        """Steps per second over the next ``seconds``."""
        first, started = self.step(), time.monotonic()
        time.sleep(seconds)
        return (self.step() - first) / (time.monotonic() - started)

    def stop(self) -> None:
        self.jobs.stop_run(self.run_id, wait_s=60)


def measure(url: str, args: argparse.Namespace, executable: str, server_pid: int | None) -> dict:
    """Warm up, then the students' sessions (with the teacher's run training, when there is one)."""
    warm = warm_up(url, executable, args.timeout)
    if not warm.ok:
        return {"results": [warm], "summary": summary([warm], 0.0)}
    teacher = TeacherRun(args.teacher_minutes) if args.teacher_run else None
    report: dict = {}
    roots = {"browser": os.getpid(), **({"server": server_pid} if server_pid else {})}
    cores = len(os.sched_getaffinity(0))
    if teacher:
        teacher.wait_until_training()
        roots["training"] = teacher.pid
        quiet = cpu_meter.snapshot({"training": teacher.pid})
        report["teacher_steps_per_s_alone"] = round(teacher.speed(args.baseline), 3)
        alone = cpu_meter.snapshot({"training": teacher.pid})
        seconds = args.baseline * cores
        report["training_cpu_share_alone"] = round(
            (alone.trees["training"] - quiet.trees["training"]) / seconds, 3
        )
        report["machine_busy_share_alone"] = round((alone.machine - quiet.machine) / seconds, 3)
        start_step, start_time = teacher.step(), time.monotonic()
    exclude = {"browser": [pid for name, pid in roots.items() if name != "browser"]}
    before = cpu_meter.snapshot(roots, exclude)
    started = time.monotonic()
    ended: dict = {}

    def when_done() -> None:
        ended["at"], ended["cpu"] = time.monotonic(), cpu_meter.snapshot(roots, exclude)

    results = concurrent_sessions(url, args.sessions, args.timeout, executable, True, args.ramp, when_done)
    wall, after = ended["at"] - started, ended["cpu"]
    if teacher:
        report["teacher_steps_per_s_under_load"] = round(
            (teacher.step() - start_step) / (time.monotonic() - start_time), 3
        )
        teacher.stop()
    shares = {name: (after.trees[name] - before.trees[name]) / (wall * cores) for name in before.trees}
    report["cpu_share"] = {name: round(share, 3) for name, share in shares.items()}
    report["machine_busy_share"] = round((after.machine - before.machine) / (wall * cores), 3)
    report["load_average"] = os.getloadavg()[0]
    return {"results": results, "summary": {**summary(results, wall), **report}}


def niced(executable: str, niceness: int, folder: Path) -> str:
    """A launcher that runs the browser at a lower priority (``nice``); the browser itself when 0."""
    if not niceness:
        return executable
    launcher = folder / "chromium-niced"
    launcher.write_text(f'#!/bin/sh\nexec nice -n {int(niceness)} {shlex.quote(executable)} "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


def print_tracebacks(log: Path, limit: int = 3) -> None:
    """The server log's first few tracebacks (the page redacts them)."""
    blocks = log.read_text(errors="replace").split("Traceback (most recent call last):")[1:]
    for block in blocks[:limit]:
        print("server traceback:" + block[-3000:], file=sys.stderr)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per session step")
    parser.add_argument("--no-teacher-run", dest="teacher_run", action="store_false")
    parser.add_argument("--teacher-minutes", type=float, default=20.0, help="time limit of the teacher's run")
    parser.add_argument("--baseline", type=float, default=30.0, help="seconds to time the run alone")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which the students arrive")
    parser.add_argument(
        "--browser-nice",
        type=int,
        default=10,
        help="run the browsers at this lower priority (0: as the server); a class's browsers are elsewhere",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--log", type=Path, help="keep the started server's log here")
    parser.add_argument(
        "--warm-audio", action="store_true", help="reuse rendered audio (default: render anew)"
    )
    args = parser.parse_args(argv)
    if args.url and args.teacher_run:
        parser.error("the teacher's run needs the server started here (add --no-teacher-run with --url)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        print("error: chromium is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gms-load-") as folder:
        runs_dir = Path(folder)
        executable = niced(executable, args.browser_nice, runs_dir)
        os.environ["GMS_RUNS_DIR"] = str(runs_dir)  # the teacher's run goes where the server looks
        started: list = []
        server = nullcontext(args.url) if args.url else streamlit_server(
            runs_dir, cold_audio=not args.warm_audio, started=started, env={"GMS_TEACHER_PIN": PIN}
        )  # fmt: skip
        with server as url:
            measured = measure(url, args, executable, started[0].pid if started else None)
        if not args.url and measured["summary"]["errors"]:
            print_tracebacks(runs_dir / "streamlit.log")
        if args.log and not args.url:
            shutil.copyfile(runs_dir / "streamlit.log", args.log)
    results, figures = measured["results"], measured["summary"]
    for result in results:
        state = "ok" if result.ok else f"ERROR {result.error}"
        pages = ", ".join(f"{t:.2f}" for t in result.pages_s)
        times = f"load {result.load_s:6.2f} s, generate {result.generate_s:6.2f} s, pages [{pages}] s"
        print(f"session {result.session:2d}: {times}, {state}")
    print(json.dumps(figures))
    if args.json:
        args.json.write_text(
            json.dumps({"summary": figures, "sessions": [asdict(r) for r in results]}, indent=2)
        )
    return 0 if figures["errors"] == 0 and figures["served"] == args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
