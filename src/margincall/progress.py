"""A progress line for runs that take a while (``margincall simulate`` and ``compare``).

Nothing is shown during a run's first second, so a short run prints nothing. After that:

* on a terminal (the stream is a TTY), one line, rewritten in place with a carriage return
  (``\\r``) when it changes, at most ten times a second, with the seconds elapsed; lines
  printed meanwhile through :meth:`ProgressLine.log` appear above it, and it is erased when
  the run ends;
* anywhere else (a file, a pipe, a CI log), a plain line every ten seconds: a heartbeat, not
  a flood, and nothing for a run under ten seconds.

A background thread redraws it while the run computes, so it appears and its seconds move on
between the run's own reports too. The clock is injectable, for tests.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

DELAY = 1.0
"""Seconds of a run during which nothing is shown."""
REFRESH = 0.1
"""Seconds between two redraws of the line on a terminal, at least."""
EVERY = 10.0
"""Seconds between two plain lines where the stream is not a terminal."""


class ProgressLine:
    """What a run is doing, on ``stream`` (see the module docstring). Use it as a context
    manager (which starts and stops the redrawing thread); :meth:`set` the text as the run
    goes on, :meth:`log` lines meant to stay."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        delay: float = DELAY,
        refresh: float = REFRESH,
        every: float = EVERY,
    ) -> None:
        self.stream = stream
        self.tty = _isatty(stream) if tty is None else tty
        self.clock = clock
        self.delay, self.refresh, self.every = delay, refresh, every
        self._start = clock()
        self._text = ""
        self._drawn = 0  # characters of the line now on the terminal (0: none)
        self._shown = ""  # the text drawn there
        self._last: float | None = None  # when it was last drawn there
        self._next = every  # the seconds elapsed at which the next plain line is due
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def set(self, text: str) -> None:
        """The run's state, shown (with the seconds elapsed) once the run has lasted
        ``delay`` seconds, when a redraw is due."""
        with self._lock:
            self._text = text
            self.tick()

    def tick(self) -> None:
        """Draw the line if it is due: on a terminal, after ``delay`` seconds and at least
        ``refresh`` seconds after the last redraw; elsewhere, once every ``every`` seconds."""
        with self._lock:
            now = self.clock()
            elapsed = now - self._start
            if not self._text or elapsed < self.delay:
                return
            shown = f"{self._text} ({elapsed:.0f} s)"
            if self.tty:
                due = self._last is None or now - self._last >= self.refresh
                if due and shown != self._shown:  # the same text is not drawn again
                    self._draw(shown)
                    self._last = now
            elif elapsed >= self._next:
                self.stream.write(shown + "\n")
                self.stream.flush()
                self._next = (elapsed // self.every + 1) * self.every

    def log(self, line: str) -> None:
        """Print ``line`` to stay (above the progress line on a terminal)."""
        with self._lock:
            drawn = self._drawn
            self._erase()
            self.stream.write(line + "\n")
            if drawn:
                self._last = None  # drawn again at once, below it
                self.tick()
            self.stream.flush()

    def close(self) -> None:
        """Stop redrawing, and erase the line from the terminal."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._erase()
            self.stream.flush()

    def __enter__(self) -> ProgressLine:
        period = self.refresh if self.tty else min(self.every, 1.0)
        self._thread = threading.Thread(target=self._run, args=(period,), daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, period: float) -> None:
        while not self._stop.wait(period):
            self.tick()

    def _draw(self, text: str) -> None:
        width = max(10, shutil.get_terminal_size().columns - 1)  # a wrapped line can't return
        self._shown = text
        text = text[:width]
        self.stream.write("\r" + text + " " * max(0, self._drawn - len(text)))
        self.stream.flush()
        self._drawn = len(text)

    def _erase(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self._drawn, self._shown = 0, ""


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no such method, or a closed stream
        return False
