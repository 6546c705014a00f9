"""The ``margincall`` command line.

* ``margincall policies [--json]``: every loadable policy with its venue, plugins, sources and
  the date of its parameters; plugins that failed to load are reported on stderr.
* ``margincall risk --policy NAME ACCOUNT.toml [--json]``: per position, the maintenance
  margin, margin ratio, liquidation and bankruptcy prices and tier.

User mistakes print one message on stderr and exit with status 1 (2 for usage errors); no
traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs

from margincall import display
from margincall.account_file import load_account
from margincall.errors import MargincallError
from margincall.policy import Policy, load_policy
from margincall.registry import BLOCK_ENV, default_registry


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _dump(data: object) -> None:
    json.dump(data, sys.stdout, indent=2, default=_json_default, ensure_ascii=False)
    sys.stdout.write("\n")


def _provenance(policy: Policy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "venue": policy.venue,
        "description": policy.description,
        "plugins": list(policy.spec.plugins),
        "parameters_date": policy.parameters_date,
        "origin": policy.origin,
        "sources": [attrs.asdict(s) for s in policy.sources],
    }


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(
            c.rjust(w) if i > 1 else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n".join(lines)


def cmd_policies(args: argparse.Namespace) -> int:
    registry = default_registry()
    policies = []
    for name in sorted(registry.policies):
        try:
            policies.append(load_policy(name, registry=registry))
        except MargincallError as error:
            print(f"margincall: policy {name} does not load:\n{error}", file=sys.stderr)
    for name, why in sorted(registry.failures.items()):
        print(f"margincall: plugin {name}: {why}", file=sys.stderr)
    if registry.blocked:
        print(
            f"margincall: plugins blocked by {BLOCK_ENV}: {', '.join(sorted(registry.blocked))}",
            file=sys.stderr,
        )
    if args.json:
        _dump([_provenance(p) for p in policies])
        return 0
    for policy in policies:
        plugins = ", ".join(policy.spec.plugins) or "(defaults only)"
        print(
            f"{policy.name}  —  {policy.venue}; plugins: {plugins}; "
            f"parameters of {policy.parameters_date}"
        )
        print(f"    {policy.description}")
        for source in policy.sources:
            print(f"    [{source.grade}, {source.date}] {source.url}")
            print(f"        {source.rule}")
        print()
    return 0


def cmd_risk(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    loaded = load_account(args.account)
    rows = policy.risk(loaded.account, marks=loaded.marks)
    if args.json:
        _dump({"policy": _provenance(policy), "positions": [attrs.asdict(r) for r in rows]})
        return 0
    print(
        f"{policy.name} ({policy.venue}, parameters of {policy.parameters_date}); "
        f"account balance {loaded.account.balance}"
    )
    headers = [
        "symbol",
        "side",
        "mode",
        "size",
        "mark",
        "uPnL",
        "tier",
        "MM",
        "margin ratio",
        "liq. price",
        "liq. tier",
        "bankruptcy",
        "liquidated",
    ]
    table = []
    for r in rows:
        m = policy.market(r.symbol)
        table.append(
            [
                r.symbol,
                r.side,
                r.margin_mode,
                str(r.size),
                display.price(r.mark_price, m),
                display.money(r.unrealized_pnl, m),
                str(r.tier),
                display.money(r.maintenance_margin, m),
                display.percent(r.margin_ratio),
                display.price(r.liquidation_price, m),
                "--" if r.liquidation_tier is None else str(r.liquidation_tier),
                display.price(r.bankruptcy_price, m),
                "yes" if r.liquidatable else "no",
            ]
        )
    print(_table(headers, table))
    print("\nPrices are rounded to the tick and money to the cent for display; --json is exact.")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="margincall", description="Venue-faithful liquidation rules for crypto derivatives."
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    policies = commands.add_parser("policies", help="list every loadable policy and its sources")
    policies.add_argument("--json", action="store_true", help="machine-readable output")
    policies.set_defaults(run=cmd_policies)
    risk = commands.add_parser("risk", help="risk figures of every position of an account")
    risk.add_argument("--policy", required=True, help="policy name or path to a policy TOML file")
    risk.add_argument("account", help="account TOML file (balance, positions, marks)")
    risk.add_argument("--json", action="store_true", help="exact machine-readable output")
    risk.set_defaults(run=cmd_risk)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except MargincallError as error:
        print(f"margincall: {error}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
