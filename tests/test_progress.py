"""Progress reports: the engine's after each step, and the command line's progress line."""

from __future__ import annotations

import io
import re
import sys
import threading
import time

import pytest

import margincall as mc
from margincall import cli
from margincall.cli import main
from margincall.progress import ProgressLine
from margincall.scenario import load_scenario


def test_simulate_reports_each_step_done() -> None:
    scenario = load_scenario("crash-2025-10")  # five steps
    seen: list[tuple[int, int]] = []
    outcome = mc.load_policy("binance-usdm").simulate(
        scenario, progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert outcome == mc.load_policy("binance-usdm").simulate(scenario)


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Clock:
    """A clock that reads ``now``, moved on by hand (or by ``step`` at each reading)."""

    def __init__(self, step: float = 0.0) -> None:
        self.now, self.step = 0.0, step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            now = self.now
            self.now += self.step
            return now


def test_on_a_terminal_the_line_appears_after_a_second_in_place() -> None:
    clock, out = Clock(), Terminal()
    line = ProgressLine(out, clock=clock)
    line.set("working: 1/3")
    clock.now = 0.99
    line.set("working: 2/3")
    assert out.getvalue() == ""  # not in the first second
    clock.now = 1.0
    line.set("working: 2/3")
    assert out.getvalue() == "\rworking: 2/3 (1 s)"
    clock.now = 1.05  # within a tenth of a second of the last redraw: not yet
    line.set("working: 3/3")
    assert out.getvalue() == "\rworking: 2/3 (1 s)"
    clock.now = 1.2
    line.tick()  # the redrawing thread's call: the state set last
    assert out.getvalue() == "\rworking: 2/3 (1 s)\rworking: 3/3 (1 s)"
    clock.now = 1.4
    line.tick()  # the same text: not drawn again
    assert out.getvalue().count("\r") == 2
    line.close()  # erased: 18 characters of spaces
    assert out.getvalue().endswith("\rworking: 3/3 (1 s)\r" + " " * 18 + "\r")


def test_a_shorter_text_covers_the_longer_one() -> None:
    clock, out = Clock(), Terminal()
    line = ProgressLine(out, clock=clock)
    clock.now = 2.0
    line.set("a long text")
    clock.now = 3.0
    line.set("short")
    assert out.getvalue() == "\ra long text (2 s)\rshort (3 s)" + " " * 6


def test_logged_lines_go_above_the_line() -> None:
    clock, out = Clock(), Terminal()
    line = ProgressLine(out, clock=clock)
    line.log("first")  # nothing drawn yet: just the line
    clock.now = 1.5
    line.set("step 1")
    line.log("second")
    assert out.getvalue() == "first\n\rstep 1 (2 s)\r" + " " * 12 + "\rsecond\n\rstep 1 (2 s)"


def test_elsewhere_a_plain_line_every_ten_seconds() -> None:
    clock, out = Clock(), io.StringIO()
    line = ProgressLine(out, clock=clock)
    for now, text in [(1.5, "a"), (9.9, "b"), (10.0, "c"), (19.0, "d"), (25.0, "e"), (26.0, "f")]:
        clock.now = now
        line.set(text)
    line.log("kept")
    line.close()
    assert out.getvalue() == "c (10 s)\ne (25 s)\nkept\n"


def test_the_thread_draws_between_reports() -> None:
    """Set once, then no report: the line still appears, from the redrawing thread."""
    out = Terminal()
    with ProgressLine(out, delay=0.05, refresh=0.01) as line:
        line.set("waiting")
        deadline = time.monotonic() + 10
        while "waiting" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert out.getvalue().startswith("\rwaiting (0 s)")
    assert out.getvalue().endswith("\r" + " " * len("waiting (0 s)") + "\r")  # erased


def test_a_fast_simulate_on_a_terminal_prints_nothing_to_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(cli, "PROGRESS_CLOCK", Clock())  # time stands still: under a second
    assert main(["simulate", "crash-2025-10", "--policy", "binance-usdm"]) == 0
    assert terminal.getvalue() == ""
    assert "The insurance fund:" in capsys.readouterr().out


def test_a_slow_simulate_on_a_terminal_shows_its_steps(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each reading of the clock half a second later: past a second, the steps show."""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(cli, "PROGRESS_CLOCK", Clock(step=0.5))
    assert main(["simulate", "crash-2025-10", "--policy", "binance-usdm"]) == 0
    shown = terminal.getvalue()
    doing = "\rmargincall: simulating crash-2025-10 under binance-usdm: step"
    assert f"{doing} 5/5 (" in shown
    assert "\n" not in shown  # rewritten in place
    assert re.fullmatch(r".*\r {20,}\r", shown, re.S)  # and erased at the end
    assert "The insurance fund:" in capsys.readouterr().out


def test_a_slow_simulate_elsewhere_prints_plain_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each reading of the clock four seconds later: a plain line per ten seconds."""
    monkeypatch.setattr(cli, "PROGRESS_CLOCK", Clock(step=4))
    assert main(["simulate", "owe-money", "--policy", "binance-usdm"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert lines
    assert all(
        re.fullmatch(r"margincall: simulating owe-money under binance-usdm: step \d/2 \(\d+ s\)", x)
        for x in lines
    )


def test_a_slow_compare_on_a_terminal_keeps_its_lines_above(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(cli, "PROGRESS_CLOCK", Clock(step=0.5))
    assert main(["compare", "owe-money", "--policy", "bitmex", "--policy", "deribit"]) == 0
    shown = terminal.getvalue()
    assert "margincall: simulating bitmex (1/2)\n" in shown  # the lines it always printed
    assert "margincall: simulating deribit (2/2)\n" in shown
    assert "\rmargincall: comparing on owe-money: deribit (2/2) (" in shown
    assert shown.endswith("\r")  # erased
    assert "deribit" in capsys.readouterr().out


def test_a_fast_compare_prints_only_its_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "owe-money", "--policy", "bitmex", "--policy", "deribit"]) == 0
    assert capsys.readouterr().err == (
        "margincall: simulating bitmex (1/2)\nmargincall: simulating deribit (2/2)\n"
    )
