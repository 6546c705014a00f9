"""Dump every bundled scenario's comparison, exactly, to check a change that must not change
results: run it before the change and after, into two folders, and diff them.

    python tools/dump_compare.py /tmp/compare-before
    # ... change the code ...
    python tools/dump_compare.py /tmp/compare-after
    diff -r /tmp/compare-before /tmp/compare-after

For each bundled scenario it writes ``compare(scenario).to_json()``, both CSV tables, and
every played policy's ``explain`` of each account and of the insurance fund, with its
who-pays text (the per-account queries of :class:`~margincall.outcome.Outcome`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from margincall.compare import compare
from margincall.ledger import INSURANCE_FUND
from margincall.scenario import bundled_scenarios, load_scenario


def dump(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in bundled_scenarios():
        scenario = load_scenario(name)
        comparison = compare(scenario)
        (folder / f"{name}.json").write_text(comparison.to_json() + "\n", encoding="utf-8")
        (folder / f"{name}.summary.csv").write_text(comparison.to_csv("summary"), encoding="utf-8")
        (folder / f"{name}.accounts.csv").write_text(
            comparison.to_csv("accounts"), encoding="utf-8"
        )
        for policy, outcome in comparison.outcomes.items():
            stories = [f"== {key}\n{outcome.explain(key)}" for key in scenario.accounts]
            stories.append(f"== {INSURANCE_FUND}\n{outcome.explain(INSURANCE_FUND)}")
            stories.append(f"== who pays\n{outcome.who_pays_text()}")
            (folder / f"{name}.{policy}.explain.txt").write_text(
                "\n".join(stories) + "\n", encoding="utf-8"
            )
        print(f"{name}: {len(comparison.summaries)} policies", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/dump_compare.py FOLDER")
    dump(Path(sys.argv[1]))
