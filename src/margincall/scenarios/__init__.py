"""Scenario generators, and the bundled scenario files.

:func:`crash` builds the October-2025 crash (the bundled ``crash-2025-10``) at any size, as a
:class:`~margincall.scenario.Scenario` in memory; ``Scenario.to_toml()`` writes one as a file
(``margincall generate crash`` does both). The bundled scenarios are the ``*.toml`` files of
this package, read by name with :func:`margincall.load_scenario` (``docs/scenarios.md``).
"""

from margincall.scenarios._crash import crash

__all__ = ["crash"]
