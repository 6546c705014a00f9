"""Regimes that are not one venue: the traditional broker/FCM that chases a customer's
deficit (``broker-chasing``) and the EU's retail CFD rules (``esma-retail``).

Both are played entirely by the default mechanisms, parameterised in their TOML files: this
plugin only ships the files. Their rules and sources are in ``docs/policies/broker-chasing.md``
and ``docs/policies/esma-retail.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

from margincall import hookimpl
from margincall._compat import Traversable
from margincall_plugins import policy_files

POLICIES = ("broker-chasing.toml", "esma-retail.toml")


@hookimpl
def margincall_policy_files() -> Iterable[Traversable]:
    return policy_files(POLICIES)
