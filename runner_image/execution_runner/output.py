"""The child's output: split into lines, capped, redacted, mirrored and handed to the sink.

The latest non-empty stdout line is held back until the next one arrives or the
run ends: it may be the result (seed style), which is not a log record.
"""

from __future__ import annotations

from execution_runner.streams import STDERR, STDOUT

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO, Final

    from execution_runner.sink import LogSink

# Longer output lines are cut and marked before they are mirrored or shipped.
MAX_LOG_LINE_BYTES: Final = 64 * 1024


class Line:
    """One output line: its first bytes (up to the splitter's cap) and its full length."""

    __slots__ = ("data", "length")

    def __init__(self, data: bytes, length: int) -> None:
        self.data = data
        self.length = length

    @property
    def truncated(self) -> bool:
        return self.length > len(self.data)


class LineSplitter:
    """Bytes in, lines out; a line longer than `keep` keeps only its first `keep` bytes."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._buffer = bytearray()
        self._length = 0  # of the current partial line, including dropped bytes

    def _take(self, piece: bytes) -> None:
        room = self._keep - len(self._buffer)
        if room > 0:
            self._buffer += piece[:room]
        self._length += len(piece)

    def feed(self, chunk: bytes) -> list[Line]:
        lines = []
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            self._take(chunk[start:end])
            lines.append(self._pop())
            start = end + 1
        self._take(chunk[start:])
        return lines

    def finish(self) -> list[Line]:
        return [self._pop()] if self._length else []

    def _pop(self) -> Line:
        line = Line(bytes(self._buffer), self._length)
        self._buffer.clear()
        self._length = 0
        return line


def log_text(line: Line, max_bytes: int = MAX_LOG_LINE_BYTES) -> str:
    """The line as a log record's text: cut at `max_bytes` and marked when longer."""
    text = line.data[:max_bytes].decode("utf-8", "replace").rstrip("\r")
    if line.length > max_bytes:
        text += f" [truncated: line of {line.length} bytes exceeded {max_bytes}]"
    return text


class OutputRouter:
    """Routes the child's stdout/stderr lines to the mirror and the sink, redacted."""

    def __init__(
        self,
        redact: Callable[[str], str],
        mirror_out: BinaryIO,
        mirror_err: BinaryIO,
        max_result_bytes: int,
    ) -> None:
        self._redact = redact
        self._sink: LogSink | None = None
        self._mirrors = {STDOUT: mirror_out, STDERR: mirror_err}
        # A stdout line may be the result, so it is kept whole up to well past the limit.
        stdout_keep = max(MAX_LOG_LINE_BYTES, 2 * max_result_bytes + 1024)
        self._splitters = {
            STDOUT: LineSplitter(stdout_keep),
            STDERR: LineSplitter(MAX_LOG_LINE_BYTES),
        }
        self._held: Line | None = None

    def attach(self, sink: LogSink) -> None:
        self._sink = sink

    def ready(self) -> bool:
        """False while the sink asks for backpressure: stop reading the code's output."""
        return self._sink is None or self._sink.ready()

    def feed(self, stream: str, chunk: bytes) -> None:
        self._route(stream, self._splitters[stream].feed(chunk))

    def finish(self, stream: str) -> None:
        self._route(stream, self._splitters[stream].finish())

    def take_last_stdout_line(self) -> Line | None:
        """The held-back line (once the run is over): the caller decides if it is the result."""
        line, self._held = self._held, None
        return line

    def emit(self, stream: str, line: Line) -> None:
        """Mirrors one line (redacted) and hands it to the sink; blank lines are only mirrored."""
        text = self._redact(log_text(line))
        mirror = self._mirrors[stream]
        try:  # noqa: SIM105  # contextlib costs start-up
            mirror.write(text.encode("utf-8", "replace") + b"\n")
        except (OSError, ValueError):
            pass  # a closed mirror must not stop draining
        if self._sink is not None and text.strip():
            self._sink.add(stream, text)

    def flush(self) -> None:
        for mirror in self._mirrors.values():
            try:  # noqa: SIM105  # contextlib costs start-up
                mirror.flush()
            except (OSError, ValueError):
                pass  # as in emit

    def _route(self, stream: str, lines: list[Line]) -> None:
        for line in lines:
            if stream == STDOUT and line.data.strip():
                previous, self._held = self._held, line
                if previous is not None:
                    self.emit(STDOUT, previous)
            else:
                self.emit(stream, line)
        if lines:
            self.flush()
