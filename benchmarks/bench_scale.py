"""How simulation time and memory grow with the accounts and the steps of a scenario.

Run: ``python benchmarks/bench_scale.py [--quick | --smoke] [--timeout 300] [--out FILE]``
(after ``pip install .``; ``--help`` lists every option, ``--parts`` and ``--policy`` run a
part of it). Every scenario is ``margincall.scenarios.crash(N, M)`` (the bundled
crash-2025-10 at N accounts and M steps, its book and fund scaled to N), built before the
clock starts. Each measurement runs in a subprocess of its own, so a slow one is stopped at
``--timeout`` seconds and reported as "> timeout" (nothing hangs), and each has its own peak
memory. The report is a markdown table per part, printed and written to ``--out``:

(a) engine time per account-step at N = 1,000 and N = 8,000 (M = 5) under every built-in
    policy (``margincall.available_policies()``), and the ratio time(8k) / time(1k): a
    linear engine gives about 8;
(b) binance-usdm and hyperliquid at N = 1,000 with M = 100 and M = 1,000 steps, and the
    ratio time(1,000) / time(100): linear gives about 10;
(c) every built-in policy on N = 10,000 × M = 5: ``margincall.compare.compare(scenario,
    policies)``'s wall time, and ``policy.simulate`` alone for each policy;
(d) N = 100,000 × M = 1,000 under binance-usdm: the wall time of the simulation and the peak
    resident memory of its process (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which
    includes the interpreter and the scenario; tracemalloc would be far too slow here).

Targets (what the engine is being made to meet; this script reports, it asserts nothing):

* 10,000 accounts × 5 marks, all 14 built-in policies compared: at most 10 s;
* 100,000 accounts × 1,000 marks under binance-usdm: at most 60 s and 2 GB;
* time(N = 8,000) / time(N = 1,000) at most 10;
* time(M = 1,000) / time(M = 100) at most 11.

``--quick`` uses small sizes for development (a: N = 250 and 2,000; b: N = 250, M = 10 and
100; c: N = 1,000; d: N = 1,000 × M = 100); the ratios mean the same. ``--smoke`` uses a few
accounts, to check that the script runs (tests/test_bench_scale.py); its figures mean
nothing. ``binance-coinm`` and ``bybit-inverse`` list inverse contracts only, so they cannot
play the USDT crash: their rows say so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Sizes = dict[str, tuple[int, ...]]

FULL: Sizes = {
    "a": (1_000, 8_000, 5),  # N1, N2, M
    "b": (1_000, 100, 1_000),  # N, M1, M2
    "c": (10_000, 5),  # N, M
    "d": (100_000, 1_000),  # N, M
}
QUICK: Sizes = {"a": (250, 2_000, 5), "b": (250, 10, 100), "c": (1_000, 5), "d": (1_000, 100)}
SMOKE: Sizes = {"a": (3, 6, 2), "b": (3, 2, 4), "c": (6, 2), "d": (6, 3)}
SCALING_POLICIES = ("binance-usdm", "hyperliquid")
LARGE_POLICY = "binance-usdm"
TARGETS = {
    "a": "time(N2) / time(N1) at most 10 for N2 / N1 = 8 (linear: 8)",
    "b": "time(M2) / time(M1) at most 11 for M2 / M1 = 10 (linear: 10)",
    "c": "every built-in policy compared on 10,000 accounts × 5 marks: at most 10 s",
    "d": "100,000 accounts × 1,000 marks under binance-usdm: at most 60 s and 2 GB",
}


# --- the measurement, in its own process ---------------------------------------------------


def _peak_rss_bytes() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB else


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement (in this process) and return its figures: ``simulate`` plays one
    policy, ``compare`` every built-in policy through ``margincall.compare.compare``."""
    import margincall as mc
    from margincall.compare import compare

    started = time.perf_counter()
    scenario = mc.scenarios.crash(spec["accounts"], spec["steps"])
    built = time.perf_counter() - started
    result: dict[str, Any] = {"build_seconds": built}
    warm_up = mc.scenarios.crash(3, 2)  # first calls resolve hooks and load lazily: not timed
    if spec["kind"] == "compare":
        policies = [mc.load_policy(name) for name in mc.available_policies()]
        compare(warm_up, policies)
        started = time.perf_counter()
        comparison = compare(scenario, policies)
        result["seconds"] = time.perf_counter() - started
        played = [s.policy for s in comparison.summaries if s.status == "played"]
        result["status"] = "ok"
        result["played"] = f"{len(played)} of {len(policies)} policies played it"
    else:
        policy = mc.load_policy(spec["policy"])
        with contextlib.suppress(mc.InvalidInputError):  # the timed run will say so
            policy.simulate(warm_up)
        started = time.perf_counter()
        try:
            policy.simulate(scenario)
        except mc.InvalidInputError as error:  # a symbol or contract the policy does not have
            result["status"] = "cannot play"
            result["error"] = str(error).splitlines()[0]
        else:
            result["status"] = "ok"
        result["seconds"] = time.perf_counter() - started
    result["peak_rss_bytes"] = _peak_rss_bytes()
    return result


# --- the parent: one subprocess per measurement ---------------------------------------------


def run(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """``spec`` measured in a new interpreter; status "timeout" or "failed" when it was not."""
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", json.dumps(spec)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        return {"status": "timeout"}
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        return {"status": "failed", "error": lines[-1]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _seconds(result: dict[str, Any], timeout: float) -> str:
    """The measured seconds, "> timeout", or "--" (not measured: see :func:`_note`)."""
    if result["status"] == "timeout":
        return f"> {timeout:g} s (timeout)"
    return f"{result['seconds']:.3f}" if result["status"] == "ok" else "--"


def _note(result: dict[str, Any]) -> str:
    """Why a measurement has no figure, in one table cell."""
    if result["status"] in ("failed", "cannot play"):
        return f"{result['status']}: {result.get('error', '')}".replace("|", "\\|")
    if result["status"] == "not run":
        return "not run: the smaller size did not finish"
    return ""


def _ratio(first: dict[str, Any], second: dict[str, Any]) -> str:
    if first["status"] != "ok" or second["status"] != "ok" or first["seconds"] <= 0:
        return "--"
    return f"{second['seconds'] / first['seconds']:.2f}"


def _per_account_step(result: dict[str, Any], accounts: int, steps: int) -> str:
    if result["status"] != "ok":
        return "--"
    return f"{result['seconds'] / (accounts * steps) * 1e6:.1f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


Progress = Callable[[str], None]


def part_a(sizes: Sizes, policies: Sequence[str], timeout: float, say: Progress) -> list[str]:
    n1, n2, steps = sizes["a"]
    rows = []
    for name in policies:
        first = run({"kind": "simulate", "policy": name, "accounts": n1, "steps": steps}, timeout)
        say(f"(a) {name} N={n1}: {_seconds(first, timeout)} {_note(first)}".rstrip())
        second: dict[str, Any] = {"status": "not run"}
        if first["status"] == "ok":  # one that cannot play, broke or timed out at N1 would at N2
            spec = {"kind": "simulate", "policy": name, "accounts": n2, "steps": steps}
            second = run(spec, timeout)
            say(f"(a) {name} N={n2}: {_seconds(second, timeout)} {_note(second)}".rstrip())
        rows.append(
            [
                name,
                _seconds(first, timeout),
                _per_account_step(first, n1, steps),
                _seconds(second, timeout),
                _per_account_step(second, n2, steps),
                _ratio(first, second),
                _note(first) or _note(second),
            ]
        )
    headers = [
        "policy",
        f"N={n1:,} s",
        f"µs per account-step (N={n1:,})",
        f"N={n2:,} s",
        f"µs per account-step (N={n2:,})",
        f"time ratio N={n2:,} / N={n1:,}",
        "note",
    ]
    return [
        f"## (a) accounts: N = {n1:,} vs N = {n2:,}, M = {steps}",
        "",
        f"Target: {TARGETS['a']}.",
        "",
        *_table(headers, rows),
    ]


def part_b(sizes: Sizes, policies: Sequence[str], timeout: float, say: Progress) -> list[str]:
    accounts, m1, m2 = sizes["b"]
    rows = []
    for name in policies:
        results = []
        for steps in (m1, m2):
            spec = {"kind": "simulate", "policy": name, "accounts": accounts, "steps": steps}
            result = run(spec, timeout)
            results.append(result)
            say(f"(b) {name} M={steps}: {_seconds(result, timeout)} {_note(result)}".rstrip())
        first, second = results
        rows.append(
            [
                name,
                _seconds(first, timeout),
                _seconds(second, timeout),
                _ratio(first, second),
                _note(first) or _note(second),
            ]
        )
    headers = ["policy", f"M={m1:,} s", f"M={m2:,} s", f"time ratio M={m2:,} / M={m1:,}", "note"]
    return [
        f"## (b) steps: M = {m1:,} vs M = {m2:,}, N = {accounts:,}",
        "",
        f"Target: {TARGETS['b']}.",
        "",
        *_table(headers, rows),
    ]


def part_c(sizes: Sizes, policies: Sequence[str], timeout: float, say: Progress) -> list[str]:
    accounts, steps = sizes["c"]
    together = run({"kind": "compare", "accounts": accounts, "steps": steps}, timeout)
    say(f"(c) compare: {_seconds(together, timeout)} {_note(together)}".rstrip())
    played = together.get("played", "")
    rows = [["compare(scenario, every built-in policy)", _seconds(together, timeout), played]]
    for name in policies:
        spec = {"kind": "simulate", "policy": name, "accounts": accounts, "steps": steps}
        alone = run(spec, timeout)
        say(f"(c) {name}: {_seconds(alone, timeout)} {_note(alone)}".rstrip())
        rows.append([f"{name}: policy.simulate", _seconds(alone, timeout), _note(alone)])
    return [
        f"## (c) every built-in policy on N = {accounts:,} × M = {steps}",
        "",
        f"Target: {TARGETS['c']}.",
        "",
        *_table(["measurement", "seconds", "note"], rows),
    ]


def part_d(sizes: Sizes, timeout: float, say: Progress) -> list[str]:
    accounts, steps = sizes["d"]
    spec = {"kind": "simulate", "policy": LARGE_POLICY, "accounts": accounts, "steps": steps}
    result = run(spec, timeout)
    say(f"(d) {LARGE_POLICY}: {_seconds(result, timeout)} {_note(result)}".rstrip())
    finished = result["status"] == "ok"
    peak = f"{result['peak_rss_bytes'] / 2**20:,.0f}" if finished else "--"
    built = f"{result['build_seconds']:.2f}" if finished else "--"
    rows = [
        [
            LARGE_POLICY,
            f"{accounts:,}",
            f"{steps:,}",
            built,
            _seconds(result, timeout),
            peak,
            _note(result),
        ]
    ]
    headers = ["policy", "N", "M", "build s", "simulate s", "peak RSS MiB", "note"]
    return [
        f"## (d) large: N = {accounts:,} × M = {steps:,} under {LARGE_POLICY}",
        "",
        f"Target: {TARGETS['d']}.",
        "",
        *_table(headers, rows),
    ]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bench_scale.py",
        description="How simulation time and memory grow with accounts and steps: markdown "
        "tables of (a) N = 1,000 vs 8,000 per policy, (b) M = 100 vs 1,000, (c) every "
        "policy on 10,000 accounts, (d) 100,000 accounts × 1,000 steps.",
    )
    sizes = top.add_mutually_exclusive_group()
    sizes.add_argument(
        "--quick", action="store_true", help="small sizes for development (N = 250 vs 2,000, ...)"
    )
    sizes.add_argument(
        "--smoke", action="store_true", help="a few accounts: does the script run at all?"
    )
    top.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="seconds each measurement may take before it is stopped (default 300)",
    )
    top.add_argument("--out", type=Path, help="also write the report to this file")
    top.add_argument(
        "--parts",
        default="abcd",
        help="which parts to run, of a, b, c and d (default: abcd)",
    )
    top.add_argument(
        "--policy",
        action="append",
        help="limit (a) and (c)'s per-policy rows to this policy (repeatable; default: every "
        "built-in policy); (c)'s compare always plays them all",
    )
    top.add_argument("--measure", help=argparse.SUPPRESS)  # the subprocess's entry point
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(json.loads(args.measure))))
        return 0
    unknown = sorted(set(args.parts) - set("abcd"))
    if unknown or not args.parts:
        parser().error(f"--parts: expected letters of abcd, got {args.parts!r}")
    if args.timeout <= 0:
        parser().error(f"--timeout: expected a positive number of seconds, got {args.timeout}")

    import margincall as mc

    available = mc.available_policies()
    policies = args.policy or available
    missing = [name for name in policies if name not in available]
    if missing:
        parser().error(
            f"--policy: unknown {', '.join(missing)}; the built-in policies are "
            f"{', '.join(available)}"
        )
    sizes, mode = FULL, "full"
    if args.quick:
        sizes, mode = QUICK, "quick"
    elif args.smoke:
        sizes, mode = SMOKE, "smoke"

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = [
        "# margincall scaling benchmark",
        "",
        f"margincall {mc.__version__}, Python {platform.python_version()} on "
        f"{platform.system()} {platform.machine()} ({os.cpu_count()} CPUs); "
        f"{time.strftime('%Y-%m-%d %H:%M')}; sizes: {mode}; timeout {args.timeout:g} s per "
        "measurement. Scenarios: margincall.scenarios.crash(N, M), built before timing; "
        "each measurement in its own process.",
    ]
    for part in "abcd":
        if part not in args.parts:
            continue
        report.append("")
        if part == "a":
            report += part_a(sizes, policies, args.timeout, say)
        elif part == "b":
            report += part_b(sizes, SCALING_POLICIES, args.timeout, say)
        elif part == "c":
            report += part_c(sizes, policies, args.timeout, say)
        else:
            report += part_d(sizes, args.timeout, say)
    text = "\n".join(report) + "\n"
    print(text, end="")
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
