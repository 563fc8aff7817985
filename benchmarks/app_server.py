"""A real Streamlit server of the studio for browser tests and benchmarks, and Chromium's flags here.

Used by ``tests/e2e`` (through ``sys.path``) and by the browser benchmarks; it starts
``streamlit run streamlit_app.py`` on a free loopback port and stops it afterwards.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Debian's Chromium, headless, with nothing that reaches beyond this machine."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    """Whether the local server answers its health check (a loopback request, nothing leaves the host)."""
    address = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=2)
    try:
        connection.request("GET", "/_stcore/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def wait_healthy(url: str, process: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {process.returncode}")
        if _healthy(url):
            return
        time.sleep(0.2)
    raise TimeoutError("the Streamlit server did not become healthy")


def cache_without_audio(folder: Path) -> Path:
    """A cache folder sharing every kind of cached file with the studio's cache except rendered audio."""
    from core.paths import cache_root

    folder.mkdir()
    for kind in ("rolls", "voices", "corpora"):
        source = cache_root() / kind
        source.mkdir(parents=True, exist_ok=True)
        (folder / kind).symlink_to(source.resolve(), target_is_directory=True)
    return folder


@contextmanager
def streamlit_server(
    runs_dir: Path, cold_audio: bool = False, started: list | None = None, env: dict | None = None
):
    """A ``streamlit run streamlit_app.py`` on a free loopback port; yields its URL.

    ``started``, when given, receives the server's ``Popen`` (to read its memory, say); ``env`` sets
    environment variables for it (``GMS_TEACHER_PIN`` for a class server, say; None removes one).
    """
    port = free_port()
    merged = {**os.environ, **(env or {}), "GMS_RUNS_DIR": str(runs_dir)}
    env = {name: value for name, value in merged.items() if value is not None}
    if cold_audio:
        env["GMS_CACHE_DIR"] = str(cache_without_audio(runs_dir / "cache"))
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with open(runs_dir / "streamlit.log", "w") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    if started is not None:
        started.append(process)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
