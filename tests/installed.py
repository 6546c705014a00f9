"""Outside plugin packages installed the way a user installs them: pip into a fresh folder,
then child processes that see that folder on their path (and nothing of the source tree but
margincall itself). Used by tests/test_sample_plugin.py and tests/test_broken_plugins.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def pip_install(target: Path, *projects: Path) -> Path:
    """Install ``projects`` (folders with a pyproject.toml) into ``target`` in one pip call,
    without their dependencies (margincall is the one running the tests)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
        + [str(project) for project in projects],
        check=True,
        capture_output=True,
    )
    return target


def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` with ``site`` on its path and no plugin blocked. It runs from the
    install folder: Hypothesis and pytest keep their files there, not in the source tree."""
    env = {**os.environ, "PYTHONPATH": str(site), "HYPOTHESIS_STORAGE_DIRECTORY": str(site)}
    env.pop("MARGINCALL_BLOCK_PLUGINS", None)
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, cwd=site, check=False
    )
