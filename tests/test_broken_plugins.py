"""A broken plugin never takes the others down. tests/broken_plugins is one outside
distribution with six entry points, each broken in its own way; it is installed with pip into
a fresh folder and used by child processes that see it on their path, as a user's installed
package would be. Every failure is one line naming the plugin, the hook (or the import) and
the original error; the other plugins and every built-in policy still work."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

import margincall as mc
from installed import HERE, pip_install, run

BROKEN = "(margincall-broken-plugins)"
BOOM = (
    f"plugin 'boom' {BROKEN}: margincall_liquidation_action raised "
    "ZeroDivisionError: integer division or modulo by zero"
)
EXITS = f"plugin 'exits' {BROKEN}: margincall_is_liquidatable raised SystemExit: exits gave up"
BADCHECK = (
    f"badcheck:badcheck-venue.toml: plugin 'badcheck' {BROKEN}: margincall_check_config raised "
    "KeyError: 'chunk'"
)
EXITS_AT_IMPORT = f"import of margincall_broken.exits_at_import {BROKEN} failed: SystemExit: 3"
HOSTILE_AT_IMPORT = (
    f"import of margincall_broken.hostile_at_import {BROKEN} failed: "
    "margincall_broken.hostile_at_import.Hostile: no plugins for you"
)
SHADOW = (
    f"plugin 'shadow' {BROKEN} ships binance-usdm.toml, the name of a built-in policy of "
    "plugin 'binance' (margincall); the built-in one is kept and this copy ignored"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pip_install(tmp_path_factory.mktemp("broken-site"), HERE / "broken_plugins")


def python(site: Path, code: str) -> str:
    result = run(site, "-c", code)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


PLAY = """
import margincall as mc
scenario = mc.load_scenario("fund-runs-dry")
try:
    mc.load_policy({policy!r}).simulate(scenario)
except mc.PluginError as error:
    cause = error.__cause__
    print(f"{{error}}\\n{{type(cause).__name__}}: {{cause}}")
print("still running")
"""


def test_a_hook_that_raises_fails_its_policy_with_a_plugin_error(site: Path) -> None:
    out = python(site, PLAY.format(policy="boom-venue"))
    assert out.splitlines() == [
        BOOM,
        "ZeroDivisionError: integer division or modulo by zero",
        "still running",
    ]


def test_a_hook_that_calls_sys_exit_fails_its_policy_not_the_process(site: Path) -> None:
    out = python(site, PLAY.format(policy="exits-venue"))
    assert out.splitlines() == [EXITS, "SystemExit: exits gave up", "still running"]


def test_import_failures_and_a_shadowed_built_in_policy_are_reported_by_name(
    site: Path,
) -> None:
    code = (
        "import json, margincall as mc; from margincall.registry import default_registry; "
        "r = default_registry(); "
        "print(json.dumps([r.failures, sorted(r.plugins), r.policies['binance-usdm'].origin, "
        "mc.load_policy('binance-usdm').venue, mc.load_policy('shadow-venue').venue]))"
    )
    failures, plugins, origin, venue, shadow_venue = json.loads(python(site, code))
    assert failures == {
        "exits-at-import": EXITS_AT_IMPORT,
        "hostile-at-import": HOSTILE_AT_IMPORT,
        "shadow:binance-usdm.toml": SHADOW,
    }
    assert {"boom", "exits", "badcheck", "shadow", "binance", "okx"} <= set(plugins)
    assert (origin, venue) == ("binance:binance-usdm.toml", "Binance")
    assert shadow_venue == "Shadow Venue"  # the shadowing plugin's own policy still loads


def test_margincall_policies_lists_the_healthy_ones_and_reports_the_rest(site: Path) -> None:
    result = run(site, "-m", "margincall", "policies", "--json")
    assert result.returncode == 0, result.stderr
    listed = [p["name"] for p in json.loads(result.stdout)]
    assert set(mc.available_policies()) <= set(listed)
    assert {"boom-venue", "exits-venue", "shadow-venue"} <= set(listed)
    assert "badcheck-venue" not in listed
    errors = result.stderr.splitlines()
    assert "margincall: policy badcheck-venue does not load:" in errors
    assert BADCHECK in errors
    assert f"margincall: plugin exits-at-import: {EXITS_AT_IMPORT}" in errors
    assert f"margincall: plugin hostile-at-import: {HOSTILE_AT_IMPORT}" in errors
    assert f"margincall: plugin shadow:binance-usdm.toml: {SHADOW}" in errors


def test_compare_reports_the_broken_policies_and_plays_the_rest(site: Path) -> None:
    result = run(site, "-m", "margincall", "compare", "fund-runs-dry")
    assert result.returncode == 0, result.stderr
    shown = set(result.stdout.replace("|", " ").split())
    assert set(mc.available_policies()) <= shown
    # each broken policy once, as a note below the summary (not again on stderr)
    notes = result.stdout.splitlines()
    assert f"boom-venue failed: {BOOM}" in notes
    assert f"exits-venue failed: {EXITS}" in notes
    assert f"badcheck-venue failed: {BADCHECK}" in notes
    assert " failed: " not in result.stderr


def test_every_built_in_policy_compares_as_it_does_without_the_broken_plugins(
    site: Path,
) -> None:
    """The summaries beside the broken plugins equal this process's, which has none."""
    code = (
        "import json, attrs, margincall as mc; from margincall.compare import compare; "
        "c = compare(mc.load_scenario('fund-runs-dry')); "
        "print(json.dumps([attrs.asdict(s) for s in c.summaries], default=str))"
    )
    theirs = {s["policy"]: s for s in json.loads(python(site, code))}
    from margincall.compare import compare

    ours = compare(mc.load_scenario("fund-runs-dry"))
    for summary in ours.summaries:
        expected = json.loads(json.dumps(attrs.asdict(summary), default=str))
        assert theirs.pop(summary.policy) == expected
    assert {name: s["error"] for name, s in theirs.items()} == {
        "badcheck-venue": BADCHECK,
        "boom-venue": BOOM,
        "exits-venue": EXITS,
        "shadow-venue": None,
    }
