"""The ``margincall`` command line.

* ``margincall policies [--json]``: every loadable policy with its venue, plugins, sources and
  the date of its parameters; plugins that failed to load are reported on stderr.
* ``margincall risk --policy NAME ACCOUNT.toml [--json]``: per position, the maintenance
  margin, margin ratio, liquidation and bankruptcy prices and tier.
* ``margincall simulate SCENARIO --policy NAME [--json]``: one policy played over a scenario
  (a bundled name or a TOML file), with each account's story.
* ``margincall compare SCENARIO [--policy NAME ...] [--format table|markdown|json|csv]``: the
  policies side by side (default: every available policy); a line per policy on stderr.
* ``margincall generate crash [--accounts N] [--steps M] [--seed S] [-o FILE [--force]]``: the
  October-2025 crash at any size (``margincall.scenarios.crash``) as a scenario TOML file, on
  stdout without ``-o``; an existing file is overwritten only with ``--force``.
* ``margincall verify POLICY [--examples N] [--profile ci|nightly] [--law NAME ...]``: the
  conformance suite on a policy (a name or a TOML file): each law, pass or fail, and the shrunk
  counterexample of a failure; status 1 when a law fails. Needs ``hypothesis``.

``simulate`` and ``compare`` runs that last more than a second show a progress line on stderr
(:mod:`margincall.progress`): rewritten in place on a terminal, and erased at the end; where
stderr is not a terminal, a plain line every ten seconds.

User mistakes print one message on stderr and exit with status 1 (2 for usage errors); no
traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from margincall import __version__, display
from margincall.account_file import example_account, load_account
from margincall.compare import compare
from margincall.decimals import ZERO
from margincall.errors import InvalidInputError, MargincallError
from margincall.ledger import INSURANCE_FUND
from margincall.policy import Policy, PositionRisk, load_policy
from margincall.progress import ProgressLine
from margincall.registry import BLOCK_ENV, default_registry
from margincall.scenario import load_scenario
from margincall.scenarios import crash


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return display.plain(value)
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
    if args.short:
        width = max((len(p.name) for p in policies), default=0)
        for policy in policies:
            dated = f"parameters of {policy.parameters_date}"
            print(f"{policy.name.ljust(width)}  {policy.venue}; {dated}")
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
    try:
        rows = policy.risk(loaded.account, marks=loaded.marks)
    except InvalidInputError as error:  # an unknown symbol, a missing mark: in the file
        raise InvalidInputError(f"{args.account}: {error}") from None
    if args.json:
        _dump({"policy": _provenance(policy), "positions": [_risk_dict(r) for r in rows]})
        return 0
    currencies = sorted({policy.market(r.symbol).settlement_currency for r in rows})
    print(
        f"{policy.name} ({policy.venue}, parameters of {policy.parameters_date}); "
        f"account balance {display.amount(loaded.account.balance)}"
        + (f" {'/'.join(currencies)}" if currencies else "")
    )
    headers = [
        "symbol",
        "side",
        "mode",
        "size",
        "mark",
        "uPnL",
        "leverage",
        "tier",
        "max lev.",
        "MM",
        "margin ratio",
        "liq. price",
        "to liq.",
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
                display.amount(r.size),
                display.price(r.mark_price, m),
                f"{display.money(r.unrealized_pnl, m)} {m.settlement_currency}",
                "--" if r.leverage is None else f"{display.amount(r.leverage)}x",
                str(r.tier),
                "--" if r.max_leverage is None else f"{display.amount(r.max_leverage)}x",
                f"{display.money(r.maintenance_margin, m)} {m.settlement_currency}",
                display.percent(r.margin_ratio),
                display.price(r.liquidation_price, m),
                "--" if r.liquidation_distance is None else display.percent(r.liquidation_distance),
                "--" if r.liquidation_tier is None else str(r.liquidation_tier),
                display.price(r.bankruptcy_price, m),
                "yes" if r.liquidatable else "no",
            ]
        )
    print(display.table(headers, table, left=3))
    if not rows:
        print("(the account holds no positions)")
    for r in rows:
        if r.over_leveraged:
            print(
                f"warning: {r.symbol} {r.side} is at {display.amount(r.leverage or ZERO)}x, above "
                f"{policy.name}'s maximum of {display.amount(r.max_leverage or ZERO)}x for tier "
                f"{r.tier}; the venue would not allow it",
            )
    print(
        "\nPrices are rounded to the tick and money for display; 'to liq.' is how far the "
        "mark may move before liquidation; --json is exact."
    )
    return 0


def _risk_dict(row: PositionRisk) -> dict[str, Any]:
    data = attrs.asdict(row)
    data["over_leveraged"] = row.over_leveraged
    return data


PROGRESS_CLOCK: Callable[[], float] = time.monotonic
"""The clock of the progress line (tests replace it)."""


def _progress_line() -> ProgressLine:
    return ProgressLine(sys.stderr, clock=PROGRESS_CLOCK)


def cmd_simulate(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    scenario = load_scenario(args.scenario)
    doing = f"margincall: simulating {scenario.name} under {policy.name}: step"
    try:
        with _progress_line() as shown:
            shown.set(f"{doing} 0/{len(scenario.steps)}")
            outcome = policy.simulate(
                scenario, progress=lambda done, total: shown.set(f"{doing} {done}/{total}")
            )
    except InvalidInputError as error:  # a symbol or contract the policy does not have
        raise InvalidInputError(f"{policy.name} cannot play {scenario.name}: {error}") from None
    if args.json:
        _dump(
            {
                "policy": _provenance(policy),
                "scenario": scenario.name,
                "currency": outcome.currency,
                "accounts": {
                    key: {
                        "balance": outcome.balance(key),
                        "equity": outcome.equity.get(key),
                        "debt": outcome.debt(key),
                        "fees_paid": outcome.fees_paid(key),
                    }
                    for key in scenario.accounts
                },
                "liquidations": [attrs.asdict(x) for x in outcome.liquidations],
                "adl": [attrs.asdict(x) for x in outcome.adl],
                "insurance_fund": list(outcome.fund_path),
                "fund_positions": [attrs.asdict(p) for p in outcome.fund_positions],
                "fund_holdings_value": outcome.fund_holdings_value,
                "fund_equity": outcome.fund_equity,
                "venue_loss": outcome.venue_loss,
                "who_pays": attrs.asdict(outcome.who_pays()),
                "notices": [attrs.asdict(n) for n in outcome.notices],
                "events": [attrs.asdict(e) for e in outcome.ledger.events],
            }
        )
        return 0
    print(
        f"{scenario.name} under {policy.name} ({policy.venue}, parameters of "
        f"{policy.parameters_date}); money in {outcome.currency or 'the settlement currency'}"
    )
    if scenario.description:
        print(scenario.description)
    for key in scenario.accounts:
        print(f"\n{key}:")
        for line in outcome.explain(key).splitlines():
            print(f"  {line}")
    print("\nThe insurance fund:")
    for line in outcome.explain(INSURANCE_FUND).splitlines():
        print(f"  {line}")
    print(f"\n{outcome.who_pays_text()}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)

    with _progress_line() as shown:

        def progress(name: str, index: int, total: int) -> None:
            shown.log(f"margincall: simulating {name} ({index + 1}/{total})")
            shown.set(f"margincall: comparing on {scenario.name}: {name} ({index + 1}/{total})")

        comparison = compare(scenario, args.policy or None, progress=progress)
    if args.format == "json":
        print(comparison.to_json())
    elif args.format == "csv":
        sys.stdout.write(comparison.to_csv(args.table))
    else:
        accounts = len(scenario.accounts) <= TABLE_ACCOUNTS or args.accounts
        print(
            comparison.to_markdown(accounts=accounts)
            if args.format == "markdown"
            else comparison.to_table(accounts=accounts)
        )
    # a policy that could not play is a note in the output itself, not an error on stderr;
    # only when none played did the command fail
    played = [s for s in comparison.summaries if s.status == "played"]
    return 0 if played or not comparison.summaries else 1


def cmd_generate_crash(args: argparse.Namespace) -> int:
    scenario = crash(args.accounts, args.steps, seed=args.seed)
    text = scenario.to_toml()
    if args.output is None:
        sys.stdout.write(text)
        return 0
    if os.path.isdir(args.output):
        raise MargincallError(f"{args.output} is a directory; name the file to write")
    try:
        # "x": the file is created here or the command fails, with no window in between
        with open(args.output, "w" if args.force else "x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise MargincallError(f"{args.output} exists; pass --force to overwrite it") from None
    except OSError as error:
        raise MargincallError(f"{args.output}: cannot write: {error.strerror or error}") from None
    print(
        f"wrote {scenario.name} ({len(scenario.accounts):,} accounts, "
        f"{len(scenario.steps):,} steps) to {args.output}"
    )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        from margincall.testing import conformance
    except ImportError as error:  # hypothesis is the test extra's
        raise MargincallError(
            f"verify needs hypothesis ({error}): pip install 'margincall[test]'"
        ) from None
    policy = load_policy(args.policy)
    laws = {law.name: law for law in conformance.LAWS}
    unknown = [name for name in args.law or () if name not in laws]
    if unknown:
        raise MargincallError(
            f"--law: unknown law {', '.join(unknown)}; the laws are {', '.join(laws)}"
        )
    chosen = [laws[name] for name in args.law] if args.law else list(laws.values())
    print(f"Verifying {policy.name} ({policy.origin}), profile {args.profile}")
    failed = 0
    for law in chosen:
        verdict = conformance.check_law(
            policy, law, profile=args.profile, max_examples=args.examples
        )
        print(f"{'PASS' if verdict.passed else 'FAIL'}  {law.name}: {law.statement}", flush=True)
        if not verdict.passed:
            failed += 1
            print(f"      {verdict.failure}")
            for line in (verdict.counterexample or "(no example)").splitlines():
                print(f"      | {line}")
    print(f"{len(chosen) - failed} of {len(chosen)} laws hold for {policy.name}")
    return 1 if failed else 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


class _PrintExample(argparse.Action):
    """``risk --example``: print the example account (margincall risk --example > a.toml)."""

    def __init__(self, option_strings: list[str], dest: str, help: str) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(example_account(), end="")
        parser.exit()


TABLE_ACCOUNTS = 20
"""Above this many accounts, tables show the per-policy summary only (unless --accounts)."""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="margincall", description="Venue-faithful liquidation rules for crypto derivatives."
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    policies = commands.add_parser("policies", help="list every loadable policy and its sources")
    policies.add_argument("--json", action="store_true", help="machine-readable output")
    policies.add_argument("--short", action="store_true", help="one line per policy")
    policies.set_defaults(run=cmd_policies)
    risk = commands.add_parser("risk", help="risk figures of every position of an account")
    risk.add_argument("--policy", required=True, help="policy name or path to a policy TOML file")
    risk.add_argument("account", help="account TOML file (balance, positions, marks)")
    risk.add_argument("--json", action="store_true", help="exact machine-readable output")
    risk.add_argument(
        "--example", action=_PrintExample, help="print an example account file and exit"
    )
    risk.set_defaults(run=cmd_risk)
    simulate = commands.add_parser("simulate", help="play one policy over a scenario")
    simulate.add_argument("scenario", help="bundled scenario name or scenario TOML file")
    simulate.add_argument("--policy", required=True, help="policy name or TOML file")
    simulate.add_argument("--json", action="store_true", help="exact machine-readable output")
    simulate.set_defaults(run=cmd_simulate)
    comparing = commands.add_parser("compare", help="policies side by side on a scenario")
    comparing.add_argument("scenario", help="bundled scenario name or scenario TOML file")
    comparing.add_argument(
        "--policy",
        action="append",
        help="a policy to include (repeatable; default: every available policy)",
    )
    comparing.add_argument(
        "--format", choices=["table", "markdown", "json", "csv"], default="table"
    )
    comparing.add_argument(
        "--table",
        choices=["summary", "accounts"],
        default="summary",
        help="with --format csv: one line per policy (default) or per policy and account",
    )
    comparing.add_argument(
        "--accounts",
        action="store_true",
        help=f"per-account rows even above {TABLE_ACCOUNTS} accounts",
    )
    comparing.set_defaults(run=cmd_compare)
    generating = commands.add_parser("generate", help="write a generated scenario TOML file")
    generators = generating.add_subparsers(dest="generator", required=True, metavar="GENERATOR")
    crashing = generators.add_parser(
        "crash",
        help="the October-2025 crash at any size",
        description="The October-2025 crash (the bundled crash-2025-10 with the defaults) at "
        "any size: book depth and insurance fund scale with the accounts, the path is "
        "interpolated through the bundled marks (docs/scenarios.md).",
    )
    crashing.add_argument(
        "--accounts", type=_positive_int, default=240, help="number of accounts (default 240)"
    )
    crashing.add_argument(
        "--steps", type=_positive_int, default=5, help="number of steps of the path (default 5)"
    )
    crashing.add_argument(
        "--seed", type=int, default=20251010, help="seed of the draws (default 20251010)"
    )
    crashing.add_argument(
        "-o", "--output", help="the TOML file to write (default: standard output)"
    )
    crashing.add_argument(
        "--force", action="store_true", help="overwrite the output file if it exists"
    )
    crashing.set_defaults(run=cmd_generate_crash)
    verifying = commands.add_parser("verify", help="run the conformance suite on a policy")
    verifying.add_argument("policy", help="policy name or path to a policy TOML file")
    verifying.add_argument(
        "--examples", type=_positive_int, help="examples per law (default: the profile's)"
    )
    verifying.add_argument("--profile", choices=["ci", "nightly"], default="ci")
    verifying.add_argument(
        "--law", action="append", help="a law to check (repeatable; default: every law)"
    )
    verifying.set_defaults(run=cmd_verify)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.run(args)
        sys.stdout.flush()
    except MargincallError as error:
        print(f"margincall: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (margincall compare ... | head): no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
