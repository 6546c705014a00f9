"""An outside contributor's plugin (tests/sample_plugin, its own package with an entry point)
installed with pip into a fresh folder, then discovered, loaded and verified through the
entry point, ``margincall verify`` and the pytest plugin, in child processes that see it only
on their path, exactly as they would see a contributor's installed package."""

from __future__ import annotations

from pathlib import Path

import pytest

from installed import HERE, pip_install, run

SAMPLE = HERE / "sample_plugin"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pip_install(tmp_path_factory.mktemp("site"), SAMPLE)


def test_the_installed_plugin_is_discovered_and_its_policy_loads(site: Path) -> None:
    code = (
        "import margincall as mc; p = mc.load_policy('sample-venue'); "
        "print(p.venue, p.plugins[-1], 'sample-venue' in mc.available_policies())"
    )
    result = run(site, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Sample Venue sample True"


def test_margincall_verify_checks_it(site: Path) -> None:
    result = run(site, "-m", "margincall", "verify", "sample-venue", "--examples", "10")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "14 of 14 laws hold for sample-venue" in result.stdout


def test_its_one_line_pytest_suite_passes(site: Path) -> None:
    result = run(
        site,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(SAMPLE / "tests"),
        "--margincall-examples",
        "10",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "14 passed" in result.stdout
