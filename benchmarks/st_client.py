"""A Streamlit session without a browser: Streamlit's own websocket protocol, spoken from Python.

A load test with real Chromium pages measures the pages as much as the server: on a two-core machine 25
Chromium pages alone keep the cores busy. This client opens the same websocket a browser opens
(``/_stcore/stream``), asks for script runs with the same protobuf messages (``BackMsg.rerun_script``
with the session's widget states and a button's trigger) and reads the elements the server sends back
(``ForwardMsg.delta``), so the server does exactly the work a browser session causes, minus drawing.
What it leaves out: the media files a page would fetch (``/media/...``) unless :meth:`fetch` is called,
and the timed re-runs of ``st.fragment(run_every=...)``.
"""

from __future__ import annotations

import asyncio
import http.client
import time
import urllib.parse
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


@dataclass
class Run:
    """What one script run sent: its elements in order, and when each text first arrived."""

    elements: list = field(default_factory=list)
    arrived: dict[str, float] = field(default_factory=dict)

    def texts(self) -> list[str]:
        return list(self.arrived)

    def button(self, label: str):
        """The button element with this label, or None."""
        return next((e.button for e in self.elements if e.WhichOneof("type") == "button" and
                     e.button.label == label), None)  # fmt: skip

    def has_text(self, fragment: str) -> bool:
        return any(fragment in text for text in self.arrived)

    def media_urls(self) -> list[str]:
        return [e.audio.url for e in self.elements if e.WhichOneof("type") == "audio"]


def element_text(element) -> str:
    kind = element.WhichOneof("type")
    if kind in ("markdown", "alert"):
        return getattr(element, kind).body
    if kind == "progress":
        return element.progress.text
    if kind == "heading":
        return element.heading.body
    if kind == "button":
        return element.button.label
    return ""


LOOPBACK = ("127.0.0.1", "localhost", "::1")
"""The only hosts a session may talk to: the benchmark's own server on this machine."""


class Session:
    """One Streamlit session over a websocket (see the module docstring)."""

    def __init__(self, url: str, page: str) -> None:
        self.url, self.page = url.rstrip("/"), page
        self.address = urllib.parse.urlsplit(self.url)
        if self.address.hostname not in LOOPBACK:
            raise ValueError(f"the benchmark talks only to a server on this machine, not {self.url}")
        self.query = ""
        self.socket = None

    async def __aenter__(self) -> Session:
        import websockets  # a dependency of Streamlit's server (uvicorn)

        stream = f"ws://{self.address.netloc}/_stcore/stream"
        self.socket = await websockets.connect(stream, subprotocols=["streamlit"], max_size=None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.socket.close()

    async def run(self, trigger=None, timeout_s: float = 120.0) -> Run:
        """Ask for a script run (pressing ``trigger``, a button element, if given); collect what it sends."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string, state.page_name = self.query, self.page
        if trigger is not None:
            widget = state.widget_states.widgets.add()
            widget.id, widget.trigger_value = trigger.id, True
        await self.socket.send(message.SerializeToString())
        run = Run()
        deadline = time.monotonic() + timeout_s
        while True:
            data = await asyncio.wait_for(self.socket.recv(), max(deadline - time.monotonic(), 0.01))
            forward = ForwardMsg()
            forward.ParseFromString(data)
            kind = forward.WhichOneof("type")
            if kind == "page_info_changed":
                self.query = forward.page_info_changed.query_string
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                run.elements.append(element)
                run.arrived.setdefault(element_text(element), time.monotonic())
            elif kind == "script_finished":
                return run

    def fetch(self, media_url: str) -> int:
        """GET a media file the page refers to (as a browser's audio player does); returns its size."""
        connection = http.client.HTTPConnection(self.address.hostname, self.address.port, timeout=60)
        try:
            connection.request("GET", self.address.path + media_url)
            response = connection.getresponse()
            if response.status != 200:
                raise OSError(f"{media_url}: HTTP {response.status}")
            return len(response.read())
        finally:
            connection.close()
