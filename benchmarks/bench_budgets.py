"""The hostile upload of the security report against a real server, then training on it: what the budgets
leave of the server's memory.

    python benchmarks/bench_budgets.py [--files 250] [--train-files 20] [--preset Classroom]
                                       [--train-minutes 0.5]

1. A real Streamlit server (``benchmarks/app_server.py``) with empty caches in a temporary folder. A headless
   Chromium opens the Dataset page, chooses "Upload MIDI files" and uploads the zip of the report, built
   here: ``--files`` different 51-byte MIDI files that each last ten minutes (two notes at 2,000 bpm,
   19,990 beats apart; without the piece budget each would become a 79,960-step piano-roll of 11.5 MB).
   Prints the time until the per-file report is on screen, its accepted/rejected count, and the server's
   resident memory (the server process, and with its children: the MIDI parse workers) before, at its peak
   while checking (sampled every 50 ms), with the report shown, and 5 s after the tab closed.
2. Training on ``--train-files`` of those files: they are stored as a corpus and a run of ``--preset``
   (stopped after ``--train-minutes``) is started as the app starts one (``core.studio.jobs.start_run``,
   with its address-space limit); prints the run's peak resident memory (VmHWM, sampled) and its end.

Targets: the server below 1 GB, the training process below 1.5 GB. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from app_server import CHROMIUM_ARGS, streamlit_server

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

REPORT = re.compile(r"(\d+) accepted, (\d+) rejected\.")


def status_field(pid: int, name: str) -> float:
    """A ``/proc/<pid>/status`` memory field in MB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return 0.0
    return 0.0


def children_of(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(proc.name))
    return found


def server_rss(pid: int) -> tuple[float, float]:
    """Resident MB of the server process alone, and with its children (the parse workers)."""
    own = status_field(pid, "VmRSS")
    return own, own + sum(status_field(child, "VmRSS") for child in children_of(pid))


class PeakSampler:
    """Samples a measurement every ``interval_s`` in a thread and keeps the largest of each component."""

    def __init__(self, measure, interval_s: float = 0.05) -> None:
        self.measure, self.interval_s = measure, interval_s
        self.peak: tuple[float, ...] = tuple(measure())
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(self.interval_s):
            self.peak = tuple(max(a, b) for a, b in zip(self.peak, self.measure(), strict=True))

    def __enter__(self) -> PeakSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join()


def line(label: str, value: str) -> None:
    print(f"{label:<58} {value}")


def pair(megabytes: tuple[float, ...]) -> str:
    return " / ".join(f"{value:.0f}" for value in megabytes) + " MB"


def upload_through_the_page(browser, url: str, archive: Path, server_pid: int) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{url}/dataset", wait_until="domcontentloaded")
    page.get_by_text("Upload MIDI files").click()
    chooser = page.locator("[data-testid='stFileUploader'] input[type='file']")
    chooser.wait_for(state="attached", timeout=60_000)
    line("server RSS before the upload (process / with workers)", pair(server_rss(server_pid)))
    started = time.monotonic()
    with PeakSampler(lambda: server_rss(server_pid)) as sampler:
        chooser.set_input_files(str(archive))
        page.get_by_text(REPORT).wait_for(timeout=600_000)
        answered = time.monotonic() - started
    accepted, rejected = REPORT.search(page.get_by_text(REPORT).inner_text()).groups()
    line("per-file report on screen after", f"{answered:.1f} s ({accepted} accepted, {rejected} rejected)")
    line("server RSS peak while checking (process / with workers)", pair(sampler.peak))
    line("server RSS with the report shown", pair(server_rss(server_pid)))
    page.close()
    time.sleep(5)
    line("server RSS 5 s after the tab closed", pair(server_rss(server_pid)))


def train_on(files: list[tuple[str, bytes]], preset: str, minutes: float) -> None:
    from core.files import read_json_or_none
    from core.studio import jobs
    from core.studio.storage import store_uploaded_corpus
    from core.training.presets import preset_config

    folder = store_uploaded_corpus(files)
    run_id = jobs.start_run(preset_config(preset, data_dir=str(folder), max_minutes=minutes))
    pid = int((read_json_or_none(jobs.run_info(run_id).files.job) or {}).get("pid", 0))
    started, peak = time.monotonic(), 0.0
    while jobs.run_info(run_id).alive:
        peak = max(peak, status_field(pid, "VmHWM"))
        time.sleep(0.2)
    info = jobs.run_info(run_id)
    line(f"training on {len(files)} of them ({preset}), wall time", f"{time.monotonic() - started:.0f} s")
    line("training process peak RSS (VmHWM)", f"{peak:.0f} MB")
    line("training ended", f"{info.state}: {info.message} (step {info.step})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=250, help="ten-minute files in the uploaded zip")
    parser.add_argument("--train-files", type=int, default=20, help="of them, how many to train on")
    parser.add_argument("--preset", default="Classroom", help="training preset")
    parser.add_argument("--train-minutes", type=float, default=0.5, help="the run stops after this")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from tests.support.hostile_uploads import long_but_tiny_files, zip_of

    work = Path(tempfile.mkdtemp(prefix="bench-budgets-"))
    os.environ["GMS_CACHE_DIR"] = str(work / "cache")
    os.environ["GMS_RUNS_DIR"] = str(work / "runs")
    (work / "runs").mkdir()
    files = long_but_tiny_files(args.files)
    archive = work / "ten_minutes_each.zip"
    archive.write_bytes(zip_of(files))
    line("uploaded zip", f"{args.files} files of 51 bytes, {archive.stat().st_size / 1024:.0f} KB")
    servers: list = []
    try:
        with streamlit_server(work / "runs", started=servers) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
            )
            upload_through_the_page(browser, url, archive, servers[0].pid)
            browser.close()
        train_on(files[: args.train_files], args.preset, args.train_minutes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
