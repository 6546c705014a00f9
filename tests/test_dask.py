"""A sweep on a Dask cluster (the ``dask`` extra): 200 generated crashes x 3 policies through
a local cluster of two worker processes give the serial sweep's table, row for row.

Skipped where Dask's ``distributed`` is not installed (the main test environments); the
``dask`` tox environment installs it and sets MARGINCALL_EXPECT_DASK=1, which makes a missing
``distributed`` fail instead of skip."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from margincall.compare import compare, sweep
from margincall.scenario import load_scenario
from margincall.scenarios import crash

if os.environ.get("MARGINCALL_EXPECT_DASK") == "1":
    import distributed  # the dask environment must have it: an ImportError fails the run
else:
    distributed = pytest.importorskip("distributed")

POLICIES = ["binance-usdm", "hyperliquid", "okex-clawback"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[distributed.Client]:
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        local_directory=str(tmp_path_factory.mktemp("dask")),  # not the current directory
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def test_a_sweep_on_a_dask_cluster_is_the_serial_sweep(client: distributed.Client) -> None:
    scenarios = [crash(accounts=20, steps=5, seed=k) for k in range(200)]
    serial = sweep(scenarios, POLICIES)
    swept = sweep(scenarios, POLICIES, executor=client.get_executor())
    assert swept == serial
    assert swept.to_csv() == serial.to_csv()
    assert len(swept.rows) == 600
    played = [r for r in serial.rows if r.summary.status == "played"]
    assert len(played) == 600
    assert sum(r.summary.accounts_liquidated for r in played) > 0  # crashes liquidate


def test_compare_on_a_dask_cluster_is_the_serial_comparison(client: distributed.Client) -> None:
    scenario = load_scenario("fund-runs-dry")
    serial = compare(scenario)
    on_dask = compare(scenario, executor=client.get_executor())
    assert on_dask.to_json() == serial.to_json()
    assert on_dask.to_csv("accounts") == serial.to_csv("accounts")
