"""Hostile input (issue 10): one clear error naming the file (and the key, where there is one)
and the reason, exit status 1 from the command line, no traceback and no hang.

Every file margincall reads goes through the same checks: a policy (``load_policy(path)``), a
policy's ``extends`` parent, a scenario (``load_scenario(path)``) and an account file
(``margincall risk``). Each case runs through the Python API and through ``cli.main``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import margincall as mc
from margincall.account_file import load_account
from margincall.cli import main
from margincall.scenario import Scenario, Step, load_scenario

D = Decimal
ROOT = Path(__file__).parents[1]
SCENARIO = ROOT / "tests" / "data" / "scenario-gap.toml"
ACCOUNT = ROOT / "examples" / "account.toml"
VARIANT = 'extends = "binance-usdm"\nname = "variant"\n'

KINDS = ["policy", "parent", "scenario", "account"]
"""The files margincall reads: a policy, the parent a policy ``extends``, a scenario, an
account."""


def valid_text(kind: str) -> str:
    if kind in ("policy", "parent"):
        return VARIANT
    return (SCENARIO if kind == "scenario" else ACCOUNT).read_text(encoding="utf-8")


@attrs.frozen
class Reader:
    """How one kind of file is read: the API call, the command line, the error type, and the
    file the message must name."""

    load: Callable[[], object]
    argv: list[str]
    error: type[mc.MargincallError]
    names: Path


def reader(kind: str, path: Path, tmp_path: Path) -> Reader:
    """Read ``path`` as a file of ``kind`` (for ``parent``, through a child that extends it)."""
    if kind == "policy":
        argv = ["risk", "--policy", str(path), str(ACCOUNT)]
        return Reader(lambda: mc.load_policy(path), argv, mc.PolicyError, path)
    if kind == "parent":
        child = tmp_path / "child.toml"
        child.write_text(f"extends = '{path}'\nname = \"child\"\n", encoding="utf-8")
        argv = ["risk", "--policy", str(child), str(ACCOUNT)]
        return Reader(lambda: mc.load_policy(child), argv, mc.PolicyError, path.resolve())
    if kind == "scenario":
        argv = ["simulate", str(path), "--policy", "binance-usdm"]
        return Reader(lambda: load_scenario(path), argv, mc.InvalidInputError, path)
    argv = ["risk", "--policy", "binance-usdm", str(path)]
    return Reader(lambda: load_account(path), argv, mc.InvalidInputError, path)


def refused(
    kind: str, path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *needles: str
) -> str:
    """Read ``path`` both ways; both must fail with one message that names the file and holds
    ``needles``; the command line prints exactly that message and exits 1. Returns it."""
    read = reader(kind, path, tmp_path)
    with pytest.raises(read.error) as info:
        read.load()
    message = str(info.value)
    assert str(read.names) in message or str(read.names.resolve()) in message, message
    for needle in needles:
        assert needle in message, message
    capsys.readouterr()
    assert main(read.argv) == 1
    captured = capsys.readouterr()
    assert captured.err == f"margincall: {message}\n"  # one message, no traceback
    assert captured.out == ""
    return message


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail, rather than hang, if reading blocks (a FIFO with no writer)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("reading the file blocked")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_random_bytes_are_not_utf8(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b"\x80" + random.Random(10).randbytes(255)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path = tmp_path / "random.toml"
    path.write_bytes(data)
    refused(kind, path, tmp_path, capsys, "not UTF-8 text", "byte 0x80 at line 1, column 1")


@pytest.mark.parametrize("kind", KINDS)
def test_latin1_text_names_the_bad_byte(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f"# written in a café\n{valid_text(kind)}"
    offset = text.index("é")
    path = tmp_path / "latin1.toml"
    path.write_bytes(text.encode("latin-1", errors="replace"))
    refused(
        kind,
        path,
        tmp_path,
        capsys,
        "not UTF-8 text",
        f"byte 0xe9 at line 1, column {offset + 1} (offset {offset})",
    )


@pytest.mark.parametrize("kind", KINDS)
def test_utf16_with_a_byte_order_mark(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "utf16.toml"
    path.write_bytes(valid_text(kind).encode("utf-16"))
    refused(kind, path, tmp_path, capsys, "not UTF-8 text", "UTF-16")


@pytest.mark.parametrize("kind", KINDS)
def test_a_utf8_byte_order_mark_is_accepted(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + valid_text(kind).encode("utf-8"))
    read = reader(kind, path, tmp_path)
    loaded = read.load()
    expected = {"policy": "variant", "parent": "child", "scenario": "gap-through-bankruptcy"}
    if kind == "account":
        assert load_account(path).account.balance == 10000
    else:
        assert getattr(loaded, "name", None) == expected[kind]
    assert main(read.argv) == 0
    assert "Traceback" not in capsys.readouterr().err


# --- nesting --------------------------------------------------------------------------------

DEEP = {
    "arrays-500": "a = " + "[" * 500 + "]" * 500 + "\n",
    "tables-5000": "a = " + "{ a = " * 5000 + "1" + " }" * 5000 + "\n",
    "dotted-5000": ".".join(["a"] * 5000) + " = 1\n",
    "arrays-40": "a = " + "[" * 40 + "]" * 40 + "\n",
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("text", DEEP.values(), ids=DEEP.keys())
def test_deep_nesting_is_refused_quickly(
    kind: str, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    message = refused(kind, path, tmp_path, capsys, "invalid TOML: nested more than 32")
    assert time.perf_counter() - started < 5
    if text.startswith("a.a"):  # refused before parsing: tomllib takes seconds over it
        assert "at line 1: a.a.a.a" in message
    elif len(text) < 1000:  # parsed, then measured: the key path of the deep value
        assert "at a" in message
    assert "RecursionError" not in message


def test_nesting_within_the_bound_reads_normally(tmp_path: Path) -> None:
    path = tmp_path / "nested.toml"
    path.write_text(VARIANT + "[parameters]\n" + "x = " + "[" * 30 + "]" * 30 + "\n")
    with pytest.raises(mc.PolicyError) as info:  # read and structured; the schema says no
        mc.load_policy(path)
    assert "parameters.x: expected a number or a string, got an array" in str(info.value)


# --- what is not a regular file -------------------------------------------------------------


def _symlink(link: Path, target: str) -> Path:
    if not Path(target).exists():
        pytest.skip(f"{target} does not exist on this system")
    try:
        link.symlink_to(target)
    except (OSError, NotImplementedError) as error:
        pytest.skip(f"cannot create a symlink here: {error}")
    return link


@pytest.mark.parametrize("kind", KINDS)
def test_a_directory_is_refused(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "folder.toml"
    path.mkdir()
    refused(kind, path, tmp_path, capsys, "cannot read", "it is a directory", "only regular files")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.usefixtures("no_hang")
def test_a_fifo_is_refused_without_blocking(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("this system has no os.mkfifo")
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)
    refused(kind, path, tmp_path, capsys, "it is a FIFO (named pipe)", "only regular files")


IN_CHILD = "MARGINCALL_DEVICE_TESTS"
"""Set in the child process that runs the device tests below."""

devices = pytest.mark.skipif(
    os.environ.get(IN_CHILD) != "1",
    reason="run by test_devices_in_a_memory_capped_child: a reader that regressed would read "
    "/dev/zero until memory runs out, beyond the reach of a timeout",
)


@devices
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
@pytest.mark.usefixtures("no_hang")
def test_a_symlink_to_a_device_is_refused(
    kind: str, device: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _symlink(tmp_path / "device.toml", device)
    message = refused(kind, path, tmp_path, capsys, "it is a character device", device)
    if kind != "parent":  # a parent's path is resolved, so its message shows the device
        assert str(path) in message


@devices
@pytest.mark.parametrize("kind", ["policy", "scenario", "account"])
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
@pytest.mark.usefixtures("no_hang")
def test_a_device_is_refused(
    kind: str, device: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path(device).exists():
        pytest.skip(f"{device} does not exist on this system")
    refused(kind, Path(device), tmp_path, capsys, "it is a character device")


def test_devices_in_a_memory_capped_child(tmp_path: Path) -> None:
    """The device tests, in a child process limited to 2 GiB and 120 s."""
    if os.environ.get(IN_CHILD) == "1":
        pytest.skip("this is the child")
    try:
        import resource
    except ImportError:
        pytest.skip("no resource module: cannot cap the child's memory")
    if not Path("/dev/zero").exists():
        pytest.skip("/dev/zero does not exist on this system")

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))

    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--basetemp",
        str(tmp_path / "child"),
        "-k",
        "device_is_refused",
        __file__,
    ]
    done = subprocess.run(
        command,
        env={**os.environ, IN_CHILD: "1"},
        preexec_fn=cap,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "14 passed" in done.stdout, done.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_file(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(kind, tmp_path / "missing.toml", tmp_path, capsys, "cannot read", "No such file")


def test_a_nul_in_the_path() -> None:
    with pytest.raises(mc.InvalidInputError, match="NUL character"):
        load_account("acc\x00ount.toml")
    with pytest.raises(mc.InvalidInputError, match="NUL character"):
        load_scenario("scen\x00ario.toml")
    with pytest.raises(mc.PolicyError, match="NUL character"):
        mc.load_policy("pol\x00icy.toml")


# --- numbers out of range -------------------------------------------------------------------

OUT_OF_RANGE = [
    ("account", "size = 0.5", "size = 1e999990", "positions[0].size: 1E+999990 is out of range"),
    ("account", "size = 0.5", "size = 1e-999990", "positions[0].size: 1E-999990 is out of range"),
    ("account", "balance = 10000", "balance = 9e999999", "balance: 9E+999999 is out of range"),
    ("account", "BTCUSDT = 59000", "BTCUSDT = 9e999999", "marks.BTCUSDT: 9E+999999 is out"),
    ("account", "balance = 10000", "balance = 1e30", "balance: 1E+30 is out of range"),
    ("account", "balance = 10000", "balance = 1." + "0" * 100 + "1", "has 101 decimal places"),
    (
        "scenario",
        "size = 0.5",
        "size = 1e999990",
        "accounts[1].positions[0].size: 1E+999990 is out of range",
    ),
    (
        "scenario",
        "marks = { BTCUSDT = 52000 }",
        "marks = { BTCUSDT = 9e999999 }",
        "steps[1].marks.BTCUSDT: 9E+999999 is out of range",
    ),
    (
        "scenario",
        "slippage = 0.001",
        "slippage = 1e-40",
        "liquidity.slippage: 1E-40 is out of range",
    ),
    (
        "policy",
        'name = "variant"\n',
        'name = "variant"\n[insurance_fund]\ninitial_balance = 9e999999\n',
        "insurance_fund.initial_balance: 9E+999999 is out of range",
    ),
]


@pytest.mark.parametrize(("kind", "old", "new", "needle"), OUT_OF_RANGE)
def test_numbers_out_of_range_in_files(
    kind: str,
    old: str,
    new: str,
    needle: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = valid_text(kind)
    assert old in text
    path = tmp_path / "huge.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    refused(kind, path, tmp_path, capsys, needle)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: mc.Position("BTCUSDT", "long", "1e999990", 60000), "BTCUSDT size: 1E+999990"),
        (lambda: mc.Position("BTCUSDT", "long", 1, D("9e999999")), "BTCUSDT entry_price"),
        (lambda: mc.Account("-9e999999"), "account balance: -9E+999999 is out of range"),
        (lambda: mc.Account(10**40), "account balance"),
        (
            lambda: mc.load_policy("binance-usdm").maintenance_margin(
                mc.Account(1000, [mc.Position("BTCUSDT", "long", 1, 60000)]),
                "BTCUSDT",
                marks={"BTCUSDT": "9e999999"},
            ),
            "mark price of BTCUSDT: 9E+999999 is out of range",
        ),
        (
            lambda: Scenario(
                {"a": mc.Account(0)}, [Step("s", {"BTCUSDT": D("1e-999999")})], name="s"
            ),
            "steps[0].marks.BTCUSDT: 1E-999999 is out of range",
        ),
    ],
    ids=["size", "entry", "balance", "int-balance", "mark", "scenario-mark"],
)
def test_numbers_out_of_range_in_the_api(call: Callable[[], object], needle: str) -> None:
    with pytest.raises(mc.InvalidInputError) as info:
        call()
    assert needle in str(info.value)
    assert "between 1E-30 and 1E+30" in str(info.value)


def test_the_bounds_themselves() -> None:
    for fine in ["9.99e29", "1e-30", "-9.99e29", "0", "0E-999999"]:
        assert mc.Account(fine).balance == D(fine)
    for out in ["1e30", "-1e30", "1e-31"]:
        with pytest.raises(mc.InvalidInputError, match="out of range"):
            mc.Account(out)


EXTREME = """balance = 1e29
[marks]
BTCUSDT = 60000
[[positions]]
symbol = "BTCUSDT"
side = "short"
size = 1e-20
entry_price = 60000
"""


def test_extreme_values_in_range_are_computed_and_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A liquidation price of 6.7e48 is shown to the 0.1 tick (before, rounding it for
    display raised decimal.InvalidOperation in the default 28-digit context)."""
    path = tmp_path / "extreme.toml"
    path.write_text(EXTREME, encoding="utf-8")
    assert main(["risk", "--policy", "binance-usdm", str(path)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "66666666666666666666947654300000000000000000" in captured.out


def test_extreme_values_in_range_simulate(binance: mc.Policy) -> None:
    """Scenarios at the edges of the input range play through without a decimal error."""
    for balance, size, price, drop in [
        ("9.99e29", "9.99e29", "9.99e29", "1e-30"),
        ("1e-30", "9.99e29", "1e-30", "9.99e29"),
        ("1", "1e-30", "1e29", "1e-30"),
    ]:
        accounts = {
            side: mc.Account(balance, [mc.Position("BTCUSDT", side, size, price)])
            for side in ("long", "short")
        }
        steps = [Step("open", {"BTCUSDT": D(price)}), Step("move", {"BTCUSDT": D(drop)})]
        outcome = binance.simulate(Scenario(accounts, steps, name="edge"))
        assert outcome.explain("long") and outcome.explain("short")


# --- accounts, marks and symbols ------------------------------------------------------------


def test_an_account_with_no_positions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("balance = 100\n", encoding="utf-8")
    assert main(["risk", "--policy", "binance-usdm", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert "account balance 100" in lines[0]
    assert lines[1].split()[:3] == ["symbol", "side", "mode"]
    assert set(lines[2].replace(" ", "")) == {"-"}
    assert lines[3] == "(the account holds no positions)"  # no rows: said after the rule
    assert main(["risk", "--policy", "binance-usdm", str(path), "--json"]) == 0
    assert '"positions": []' in capsys.readouterr().out


POSITION = '[[positions]]\nsymbol = "{}"\nside = "long"\nsize = 1\nentry_price = 60000\n'


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            "balance = 100\n" + POSITION.format("BTCUSDT"),
            ["marks: a mark price for BTCUSDT is needed"],
        ),
        (
            "balance = 100\n[marks]\nETHUSDT = 3000\n" + POSITION.format("BTCUSDT"),
            ["marks: a mark price for BTCUSDT is needed"],
        ),
        (
            "balance = 100\n[marks]\nFOOUSDT = 1\n" + POSITION.format("FOOUSDT"),
            ["unknown symbol 'FOOUSDT' for policy binance-usdm", "BTCUSDT"],
        ),
        (
            "balance = 100\n[marks]\nBTCUSDT = 1\nFOOUSDT = 1\n" + POSITION.format("BTCUSDT"),
            ["unknown symbol 'FOOUSDT'"],
        ),
    ],
    ids=["no-marks", "other-mark", "unknown-position", "unknown-mark"],
)
def test_marks_and_symbols_in_an_account_file(
    text: str, needles: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "account.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["risk", "--policy", "binance-usdm", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"margincall: {path}: ")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    for needle in needles:
        assert needle in captured.err


@pytest.mark.parametrize(
    ("level", "needle"),
    [
        ("[[0.001]]", "liquidity.bids.BTCUSDT[0]: expected [offset, size], got [0.001]"),
        (
            "[[0.001, 2, 3]]",
            "liquidity.bids.BTCUSDT[0]: expected [offset, size], got [0.001, 2, 3]",
        ),
        ("[0.001, 2]", "liquidity.bids.BTCUSDT[0]: expected an array"),
    ],
    ids=["one-number", "three-numbers", "flat"],
)
def test_a_depth_ladder_level_that_is_not_a_pair(
    level: str, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = valid_text("scenario").replace(
        'model = "mark"\nslippage = 0.001', f'model = "depth"\nbids = {{ BTCUSDT = {level} }}'
    )
    path = tmp_path / "ladder.toml"
    path.write_text(text, encoding="utf-8")
    refused("scenario", path, tmp_path, capsys, needle)


# --- API values of the wrong kind -----------------------------------------------------------


@pytest.mark.parametrize("reference", [None, 123, b"owe-money"], ids=["none", "int", "bytes"])
def test_load_scenario_of_the_wrong_type(reference: object) -> None:
    with pytest.raises(mc.InvalidInputError) as info:
        load_scenario(reference)  # type: ignore[arg-type]
    message = str(info.value)
    assert "expected a bundled scenario name (crash-2025-10" in message
    assert "or the path of a scenario TOML file" in message
    assert f"got {type(reference).__name__} {reference!r}" in message


@pytest.mark.parametrize("scenario", ["owe-money", Path("owe-money.toml"), None])
def test_simulate_a_name_instead_of_a_scenario(binance: mc.Policy, scenario: object) -> None:
    with pytest.raises(mc.InvalidInputError) as info:
        binance.simulate(scenario)  # type: ignore[arg-type]
    message = str(info.value)
    assert "simulate: expected a Scenario" in message
    if scenario is not None:
        assert f"load_scenario({scenario!r})" in message


def test_explain_an_unknown_account(binance: mc.Policy) -> None:
    outcome = binance.simulate(load_scenario("owe-money"))
    with pytest.raises(mc.InvalidInputError) as info:
        outcome.explain("nobody")
    assert isinstance(info.value, ValueError)
    assert str(info.value) == (
        "explain: no account 'nobody' in scenario owe-money; its accounts are trader "
        '(and "insurance-fund" for the fund)'
    )


def test_explain_lists_at_most_ten_accounts(binance: mc.Policy) -> None:
    accounts = {f"a{k:02}": mc.Account(100) for k in range(25)}
    outcome = binance.simulate(Scenario(accounts, [{"BTCUSDT": 60000}], name="crowd"))
    with pytest.raises(mc.InvalidInputError) as info:
        outcome.explain("nobody")
    assert "a00, a01, a02, a03, a04, a05, a06, a07, a08, a09 and 15 more (" in str(info.value)


@pytest.mark.parametrize(
    ("addition", "needle"),
    [
        ('markets = "BTCUSDT"\n', "markets: expected a table, got a string 'BTCUSDT'"),
        ("[fees]\nmaker = [1]\n", "fees.maker: expected a number, got list [1]"),
        ("extends = 3\n", "extends: expected a policy name or path, got 3"),
    ],
    ids=["string-for-table", "array-for-number", "extends-a-number"],
)
def test_policy_values_of_the_wrong_kind(
    addition: str, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VARIANT.replace('extends = "binance-usdm"\n', "") if "extends" in addition else VARIANT
    path = tmp_path / "wrong.toml"
    path.write_text(addition + text if "extends" in addition else text + addition)
    refused("policy", path, tmp_path, capsys, needle)
