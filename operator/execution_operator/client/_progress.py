"""Live progress of one Execution on a terminal: phase, elapsed, pod, its log lines."""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from .handle import ExecutionHandle

Body = dict[str, Any]
_COLOURS = {"Succeeded": "green", "Failed": "red", "Cancelled": "yellow", "Running": "cyan"}


class Progress:
    """A status line kept at the bottom while the code's output scrolls above it."""

    def __init__(self, handle: ExecutionHandle, console: Console):
        self.handle = handle
        self.console = console
        self.started = time.monotonic()
        self.phase = "Pending"
        self.pod = ""
        self._lock = threading.Lock()

    def line(self) -> Text:
        with self._lock:
            phase, pod = self.phase, self.pod
        elapsed = time.monotonic() - self.started
        text = Text.assemble(
            (f"{self.handle.name} ", "bold"),
            (phase, _COLOURS.get(phase, "white")),
            f"  {elapsed:5.1f}s",
        )
        if pod:
            text.append(f"  pod {pod}", style="dim")
        return text

    def on_change(self, body: Body) -> None:
        status = body.get("status") or {}
        with self._lock:
            self.phase = status.get("phase") or self.phase
            self.pod = status.get("podName") or self.pod

    def wait(self) -> Body:
        """The terminal status, showing progress and streaming the code's output meanwhile."""
        with Live(self, console=self.console, refresh_per_second=8, transient=True) as live:
            follower = threading.Thread(target=self._stream, args=(live,), daemon=True)
            follower.start()
            status = self.handle.wait_status(on_change=self.on_change)
            follower.join(timeout=5)  # the last lines, if the log stream is still open
        self.on_change({"status": status})
        self.console.print(self.line())
        return status

    def _stream(self, live: Live) -> None:
        try:
            for line in self.handle.follow_logs():
                live.console.print(Text(line), soft_wrap=True)
        except Exception as exc:  # the progress display must not break the run
            live.console.print(Text(f"(log stream ended: {exc})", style="dim"))

    def __rich__(self) -> Text:
        return self.line()
