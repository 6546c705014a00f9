"""benchmarks/bench_scale.py runs: its smallest sizes (--smoke), through the subprocess per
measurement, the timeout and the report file. No timing is asserted: the figures of a few
accounts mean nothing, and a benchmark reports, it does not pass or fail."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import margincall as mc

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "bench_scale.py"

pytestmark = pytest.mark.skipif(
    not SCRIPT.is_file(), reason="benchmarks/bench_scale.py is not in this tree"
)


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=600,  # a hung script fails here rather than stalling the suite
        check=False,
    )


def rows(report: str, heading: str) -> list[list[str]]:
    """The body rows of the table under the heading that starts with ``heading``."""
    section = report.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")][1:]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_the_smoke_run_reports_every_part(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    done = bench(
        "--smoke", "--policy", "binance-usdm", "--policy", "binance-coinm", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    report = out.read_text(encoding="utf-8")
    assert done.stdout == report
    assert "sizes: smoke" in report
    a = rows(report, "(a)")
    assert [r[0] for r in a] == ["binance-usdm", "binance-coinm"]
    assert re.fullmatch(r"\d+\.\d{3}", a[0][1]) and re.fullmatch(r"\d+\.\d\d", a[0][5])
    assert a[1][1] == "--" and a[1][6].startswith("cannot play: unknown symbol 'BTCUSDT'")
    b = rows(report, "(b)")
    assert [r[0] for r in b] == ["binance-usdm", "hyperliquid"]
    assert all(re.fullmatch(r"\d+\.\d\d", r[3]) for r in b)
    c = rows(report, "(c)")
    total = len(mc.available_policies())
    assert c[0][0] == "compare(scenario, every built-in policy)"
    assert re.fullmatch(rf"\d+ of {total} policies played it", c[0][2])
    assert [r[0] for r in c[1:]] == [
        "binance-usdm: policy.simulate",
        "binance-coinm: policy.simulate",
    ]
    (d,) = rows(report, "(d)")
    assert d[0] == "binance-usdm" and re.fullmatch(r"\d+", d[5].replace(",", ""))
    assert "failed:" not in report and "(timeout)" not in report


def test_a_measurement_past_the_timeout_is_reported_not_waited_for() -> None:
    done = bench("--smoke", "--parts", "d", "--timeout", "0.001")
    assert done.returncode == 0, done.stderr
    (d,) = rows(done.stdout, "(d)")
    assert d[4] == "> 0.001 s (timeout)"


def test_help_and_bad_options() -> None:
    done = bench("--help")
    assert done.returncode == 0 and "--timeout" in done.stdout and "--quick" in done.stdout
    bad = bench("--parts", "e")
    assert bad.returncode == 2 and "--parts: expected letters of abcd, got 'e'" in bad.stderr
