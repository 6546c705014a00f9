"""The command line: output, exact JSON, and one clear message (no traceback) on bad input."""

from __future__ import annotations

import importlib.metadata
import json
from decimal import Decimal, localcontext
from importlib.resources import files
from pathlib import Path

import pytest

import margincall as mc
from margincall.account_file import load_account
from margincall.cli import main
from margincall.scenarios import crash

EXAMPLE = Path(__file__).parents[1] / "examples" / "account.toml"


def test_policies_lists_name_venue_plugins_date_and_sources(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policies"]) == 0
    out = capsys.readouterr().out
    assert "binance-usdm" in out and "Binance" in out and "plugins: binance" in out
    assert "parameters of 2024-10-24" in out
    assert "https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93" in out


def test_policies_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "--json"]) == 0
    policies = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    policy = policies["binance-usdm"]
    assert policy["plugins"] == ["binance"]
    assert all({"rule", "url", "date", "grade"} <= set(s) for s in policy["sources"])
    # a variant keeps its parent's sources and adds its own
    assert len(policies["binance-usdm-chasing"]["sources"]) == len(policy["sources"]) + 1


def test_risk_json_is_exact(capsys: pytest.CaptureFixture[str]) -> None:
    """The example account's isolated BTC long: 0.5 @ 60,000 with 3,000 margin, bracket 1
    (0.4 %): LP = (30,000 − 3,000) / (0.5 × 0.996); BP = 60,000 − 3,000 / 0.5; MM at the
    59,000 mark = 29,500 × 0.4 % = 118 (Binance's USDⓈ-M formulas, see test_binance_usdm)."""
    assert main(["risk", "--policy", "binance-usdm", str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["policy"]["name"] == "binance-usdm"
    btc = next(p for p in data["positions"] if p["symbol"] == "BTCUSDT")
    with localcontext() as ctx:
        ctx.prec = 50
        assert Decimal(btc["liquidation_price"]) == Decimal(27000) / Decimal("0.498")
    assert Decimal(btc["bankruptcy_price"]) == 54000
    assert Decimal(btc["maintenance_margin"]) == 118
    assert btc["tier"] == 1 and btc["liquidatable"] is False


def test_risk_example_prints_a_loadable_account(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``margincall risk --example > account.toml``, then ``margincall risk`` on it: the
    repository's examples/account.toml, needing neither --policy nor an account argument."""
    with pytest.raises(SystemExit) as exit_:
        main(["risk", "--example"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out == EXAMPLE.read_text(encoding="utf-8")
    written = tmp_path / "account.toml"
    written.write_text(out, encoding="utf-8")
    loaded = load_account(written)
    assert loaded.account.balance == Decimal("10000")
    assert [p.symbol for p in loaded.account.positions] == ["BTCUSDT", "ETHUSDT"]
    assert main(["risk", "--policy", "binance-usdm", str(written), "--json"]) == 0


@pytest.mark.skipif(
    Path(mc.__file__).parents[1] == EXAMPLE.parents[1] / "src",
    reason="margincall runs from the source tree (an editable install), not a built wheel",
)
def test_the_installed_package_ships_the_example_account() -> None:
    """tox installs the built wheel: the example is in it, the same text as the repository's."""
    shipped = files("margincall") / "examples" / "account.toml"
    assert shipped.is_file(), "the wheel lacks margincall/examples/account.toml"
    assert shipped.read_text(encoding="utf-8") == EXAMPLE.read_text(encoding="utf-8")


def test_risk_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["risk", "--policy", "binance-usdm", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "54216.9" in out  # 54,216.87 shown to BTCUSDT's 0.1 tick
    assert "ETHUSDT" in out and "short" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["risk", "--policy", "no-such-policy", str(EXAMPLE)], "unknown policy 'no-such-policy'"),
        (["risk", "--policy", "binance-usdm", "missing.toml"], "missing.toml: cannot read"),
    ],
)
def test_user_mistakes_exit_1_with_one_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_bad_account_file_names_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "acct.toml"
    path.write_text(
        "balance = 100\n[marks]\nBTCUSDT = 60000\n"
        '[[positions]]\nsymbol = "BTCUSDT"\nside = "long"\nsize = -1\nentry_price = 60000\n'
    )
    assert main(["risk", "--policy", "binance-usdm", str(path)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "size: must be > 0, got -1" in err

    path.write_text("balance = 100\nbalanse = 3\n")
    assert main(["risk", "--policy", "binance-usdm", str(path)]) == 1
    assert "extra fields found (balanse)" in capsys.readouterr().err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["risk"])
    assert exit_info.value.code == 2


def test_compare_prints_a_side_by_side_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "owe-money"]) == 0
    captured = capsys.readouterr()
    assert "binance-usdm-chasing" in captured.out and "2,102.00" in captured.out
    names = mc.available_policies()
    first = f"simulating {names[0]} (1/{len(names)})"
    assert first in captured.err  # progress goes to stderr


@pytest.mark.parametrize("fmt", ["markdown", "json", "csv"])
def test_compare_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "owe-money", "--policy", "binance-usdm-chasing", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "binance-usdm-chasing" in out and "binance-usdm," not in out
    if fmt == "json":
        assert Decimal(json.loads(out)["summary"][0]["debt_owed"]) == 2102


def test_simulate_tells_each_accounts_story(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "owe-money", "--policy", "binance-usdm-chasing"]) == 0
    assert "It owes 2,102" in capsys.readouterr().out
    assert main(["simulate", "owe-money", "--policy", "binance-usdm", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert Decimal(data["accounts"]["trader"]["balance"]) == 1000
    assert [Decimal(b) for b in data["insurance_fund"]] == [10000, 6898]


def test_unknown_scenario_lists_the_bundled_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "no-such-scenario"]) == 1
    assert (
        "bundled scenarios: crash-2025-10, crash-2025-10-coin, fund-runs-dry, owe-money"
        in capsys.readouterr().err
    )


def test_a_closed_pipe_ends_quietly() -> None:
    """`margincall compare ... | head`: when the reader has gone, no traceback. The read end
    is closed before the command writes, so its first write fails, every time."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    command = [sys.executable, "-m", "margincall", "compare", "owe-money"]
    try:
        done = subprocess.run(command, stdout=write, stderr=subprocess.PIPE, check=False)
    finally:
        os.close(write)
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr


def test_risk_shows_leverage_and_the_distance_to_liquidation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The example's BTC long: 0.5 × 60,000 / 3,000 of margin = 10x, in bracket 1 (up to
    50,000, 125x; Binance's table of 2024-10-24, policies/binance-usdm.toml). Its liquidation
    price 27,000 / 0.498 = 54,216.87 is (59,000 − 54,216.87) / 59,000 = 8.11 % below the
    mark."""
    assert main(["risk", "--policy", "binance-usdm", str(EXAMPLE), "--json"]) == 0
    btc = next(p for p in json.loads(capsys.readouterr().out)["positions"] if p["side"] == "long")
    assert (Decimal(btc["leverage"]), Decimal(btc["max_leverage"])) == (10, 125)
    with localcontext() as ctx:
        ctx.prec = 50
        lp = Decimal(27000) / Decimal("0.498")
        assert Decimal(btc["liquidation_distance"]) == (59000 - lp) / 59000
    assert btc["over_leveraged"] is False
    assert main(["risk", "--policy", "binance-usdm", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "10x" in out and "125x" in out and "8.11%" in out and "warning" not in out


def test_risk_warns_above_the_tier_s_maximum_leverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """1 BTC at 60,000 on 500 of isolated margin is 120x; worth 60,000 at the mark it sits in
    Binance's bracket 2 (50,000 to 600,000), whose maximum is 100x (2024-10-24 table)."""
    account = tmp_path / "over.toml"
    account.write_text(
        'balance = 0\n[marks]\nBTCUSDT = 60000\n[[positions]]\nsymbol = "BTCUSDT"\n'
        'side = "long"\nsize = 1\nentry_price = 60000\nmargin_mode = "isolated"\nmargin = 500\n',
        encoding="utf-8",
    )
    assert main(["risk", "--policy", "binance-usdm", str(account)]) == 0
    out = capsys.readouterr().out
    assert (
        "warning: BTCUSDT long is at 120x, above binance-usdm's maximum of 100x for tier 2" in out
    )


def test_version_and_short_policy_list(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"margincall {mc.__version__}"
    assert mc.__version__ == importlib.metadata.version("margincall")  # one source
    assert main(["policies", "--short"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == mc.available_policies()
    assert all("parameters of" in line for line in lines)


# --- generate -----------------------------------------------------------------------------


def test_generate_crash_writes_the_scenario_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "crash", "--accounts", "12", "--steps", "7", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    assert captured.out == crash(12, 7, seed=3).to_toml() and captured.err == ""
    assert main(["generate", "crash"]) == 0  # the defaults: the bundled crash-2025-10
    shipped = (files("margincall") / "scenarios" / "crash-2025-10.toml").read_text("utf-8")
    assert capsys.readouterr().out == shipped.split("\n", 1)[1]


def test_generate_crash_writes_a_file_that_simulate_plays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crash.toml"
    assert main(["generate", "crash", "--accounts", "30", "--steps", "8", "-o", str(path)]) == 0
    out = capsys.readouterr().out
    assert out == f"wrote crash-2025-10-30x8 (30 accounts, 8 steps) to {path}\n"
    assert mc.load_scenario(path) == crash(30, 8)
    assert main(["simulate", str(path), "--policy", "binance-usdm"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("crash-2025-10-30x8 under binance-usdm") and not captured.err


def test_generate_crash_overwrites_only_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crash.toml"
    path.write_text("mine", encoding="utf-8")
    assert main(["generate", "crash", "--accounts", "3", "-o", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"margincall: {path} exists; pass --force to overwrite it\n"
    assert captured.out == "" and path.read_text(encoding="utf-8") == "mine"
    assert main(["generate", "crash", "--accounts", "3", "-o", str(path), "--force"]) == 0
    assert mc.load_scenario(path) == crash(3)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing/crash.toml", "{path}: cannot write: No such file or directory"),
        ("", "{path} is a directory; name the file to write"),
    ],
)
def test_generate_crash_names_a_file_it_cannot_write(
    target: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / target
    assert main(["generate", "crash", "--accounts", "3", "-o", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == f"margincall: {message.format(path=path)}\n"


@pytest.mark.parametrize(
    "args",
    [["--accounts", "0"], ["--steps", "-1"], ["--steps", "five"], ["--seed", "1.5"], []],
)
def test_generate_crash_usage_errors_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    command = ["generate", "crash", *args] if args else ["generate"]
    with pytest.raises(SystemExit) as exit_info:
        main(command)
    assert exit_info.value.code == 2
    assert "usage: margincall generate" in capsys.readouterr().err
