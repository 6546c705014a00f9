"""Plugin discovery: the default mechanisms, the ``margincall`` entry-point group, and the
policies the plugins ship.

Entry points load one at a time: a plugin that fails to import, implements an unknown hook
(a misspelling), breaks a hook's signature, gives a hook argument a default value, or is an
object already registered under another name is recorded by name in
:attr:`Registry.failures` and the others still load. ``MARGINCALL_BLOCK_PLUGINS`` (names
separated by commas or spaces) keeps named entry-point plugins from loading at all; the
default mechanisms cannot be blocked (every policy relies on them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import cast

import attrs
import pluggy

from margincall import hookspecs
from margincall._compat import Traversable
from margincall.mechanisms import DEFAULT_PLUGINS

GROUP = "margincall"
BLOCK_ENV = "MARGINCALL_BLOCK_PLUGINS"


@attrs.frozen
class PolicyFile:
    """A policy shipped by a plugin: its name (the file stem), where it is, who ships it."""

    name: str
    plugin: str
    file: Traversable

    @property
    def origin(self) -> str:
        return f"{self.plugin}:{self.file.name}"


@attrs.frozen
class PluginInfo:
    name: str
    module: str
    distribution: str | None
    default: bool


def new_manager() -> pluggy.PluginManager:
    """A plugin manager that knows margincall's hook specifications."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    return manager


def blocked_names(environ: dict[str, str] | None = None) -> frozenset[str]:
    value = (os.environ if environ is None else environ).get(BLOCK_ENV, "")
    return frozenset(name for name in re.split(r"[,\s]+", value) if name)


@attrs.define
class Registry:
    """Every loadable plugin and every policy they ship."""

    plugins: dict[str, object] = attrs.Factory(dict)
    info: dict[str, PluginInfo] = attrs.Factory(dict)
    failures: dict[str, str] = attrs.Factory(dict)
    blocked: frozenset[str] = frozenset()
    policies: dict[str, PolicyFile] = attrs.Factory(dict)

    @classmethod
    def discover(
        cls,
        points: Iterable[EntryPoint] | None = None,
        blocked: frozenset[str] | None = None,
    ) -> Registry:
        """Load the defaults and the entry points (``points`` replaces the installed ones)."""
        registry = cls(blocked=blocked_names() if blocked is None else blocked)
        manager = new_manager()
        for name, module in DEFAULT_PLUGINS.items():
            registry._add(manager, name, module, None, default=True)
        if points is None:
            points = entry_points(group=GROUP)
        for point in sorted(points, key=lambda p: p.name):
            if point.name in registry.blocked:
                continue
            dist = point.dist.name if point.dist is not None else None
            if point.name in registry.plugins:
                registry.failures[point.name] = (
                    f"the name is already taken by {registry.info[point.name].module}; "
                    f"{point.value} ({dist or 'unknown distribution'}) was not loaded"
                )
                continue
            try:
                plugin = point.load()
            except Exception as error:  # a broken plugin must not stop the others
                registry.failures[point.name] = f"import of {point.value} failed: {error!r}"
                continue
            registry._add(manager, point.name, plugin, dist, default=False)
        registry._collect_policies(manager)
        return registry

    def _add(
        self,
        manager: pluggy.PluginManager,
        name: str,
        plugin: object,
        dist: str | None,
        *,
        default: bool,
    ) -> None:
        try:
            manager.register(plugin, name=name)
            manager.check_pending()
            _refuse_defaults(manager, name)
        except (pluggy.PluginValidationError, ValueError) as error:
            # ValueError: pluggy refuses an object already registered under another name
            if manager.is_registered(plugin) and manager.get_name(plugin) == name:
                manager.unregister(plugin)
            self.failures[name] = f"invalid plugin: {error}"
            return
        module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__qualname__
        self.plugins[name] = plugin
        self.info[name] = PluginInfo(name, module, dist, default)

    def _collect_policies(self, manager: pluggy.PluginManager) -> None:
        for impl in reversed(manager.hook.margincall_policy_files.get_hookimpls()):
            try:
                files: list[Traversable] = list(cast("Iterable[Traversable]", impl.function()))
            except Exception as error:
                self.failures[impl.plugin_name] = f"margincall_policy_files failed: {error!r}"
                continue
            for file in files:
                stem = file.name.removesuffix(".toml")
                if stem in self.policies:
                    self.failures[f"{impl.plugin_name}:{file.name}"] = (
                        f"policy {stem!r} is already shipped by plugin "
                        f"{self.policies[stem].plugin!r}; this copy was ignored"
                    )
                    continue
                self.policies[stem] = PolicyFile(stem, impl.plugin_name, file)


def _refuse_defaults(manager: pluggy.PluginManager, name: str) -> None:
    """pluggy never passes a hookimpl argument that has a default value, so such an
    argument would silently keep its default: refuse the plugin instead."""
    for caller in manager.get_hookcallers(manager.get_plugin(name)) or []:
        for impl in caller.get_hookimpls():
            if impl.plugin_name == name and impl.kwargnames:
                raise pluggy.PluginValidationError(
                    impl.plugin,
                    f"{name}: {caller.name} gives default values to {', '.join(impl.kwargnames)}; "
                    "hook implementations must not (pluggy would never pass those arguments)",
                )


@cache
def default_registry() -> Registry:
    """The registry of this process's installed plugins, discovered once."""
    return Registry.discover()
