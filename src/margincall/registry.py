"""Plugin discovery: the default mechanisms, the ``margincall`` entry-point group, and the
policies the plugins ship.

Entry points load one at a time, margincall's own first: a plugin that fails to import
(including one that calls ``sys.exit`` or raises any other ``BaseException`` there, except a
real ``KeyboardInterrupt``), implements an unknown hook (a misspelling), breaks a hook's
signature, gives a hook argument a default value, or is an object already registered under
another name is recorded by name in :attr:`Registry.failures` and the others still load. A
policy file named like a built-in policy is refused: the built-in one always wins.
``MARGINCALL_BLOCK_PLUGINS`` (names separated by commas or spaces) keeps named entry-point
plugins from loading at all; the default mechanisms cannot be blocked (every policy relies on
them).
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
BUILTIN_PACKAGES = frozenset({"margincall", "margincall_plugins"})
"""The packages of margincall's own distribution: plugins there are built in."""
BUILTIN_DISTRIBUTION = "margincall"

PASSED_THROUGH: tuple[type[BaseException], ...] = (KeyboardInterrupt, GeneratorExit)
"""What margincall never catches from a plugin: the user's Ctrl-C, and a generator's close.
Anything else a plugin raises at import or in a hook, ``SystemExit`` included, is caught and
reported as that plugin's failure."""


def describe_error(error: BaseException) -> str:
    """``TYPE: MESSAGE`` on one line (builtin types unqualified, others with their module)."""
    kind = type(error)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    try:
        message = " ".join(str(error).split())
    except Exception:  # an error that cannot even say what it is
        message = "(its message could not be read)"
    return f"{name}: {message}" if message else name


def plugin_label(name: str) -> str:
    """How messages name a plugin registered as ``name`` when nothing more is known."""
    return f"plugin {name!r}"


def hook_failure(plugin: str, hook: str, error: BaseException) -> str:
    """The one-line reason a hook implementation failed; ``plugin`` is its label
    (:meth:`Registry.label`)."""
    return f"{plugin}: {hook} raised {describe_error(error)}"


def _builtin(module: str, distribution: str | None) -> bool:
    """Whether code in ``module`` from ``distribution`` is margincall's own."""
    return module.split(".")[0] in BUILTIN_PACKAGES and distribution in (
        None,
        BUILTIN_DISTRIBUTION,
    )


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
    """A loaded plugin: ``default`` for the default mechanisms, ``builtin`` for those and for
    the venue plugins margincall itself ships (their policies cannot be shadowed)."""

    name: str
    module: str
    distribution: str | None
    default: bool
    builtin: bool = False

    @property
    def label(self) -> str:
        """How messages name the plugin: ``plugin 'NAME' (DISTRIBUTION)``."""
        if self.default:
            return f"default mechanism {self.name!r}"
        label = plugin_label(self.name)
        return f"{label} ({self.distribution})" if self.distribution else label


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
        for point in sorted(points, key=lambda p: (not _builtin_point(p), p.name)):
            if point.name in registry.blocked:
                continue
            dist = point.dist.name if point.dist is not None else None
            if point.name in registry.plugins:
                # keyed apart from the name, so that the plugin holding it still works
                registry.failures[f"{point.name} ({dist or point.value})"] = (
                    f"the name is already taken by {registry.info[point.name].module}; "
                    f"{point.value} ({dist or 'unknown distribution'}) was not loaded"
                )
                continue
            try:
                plugin = point.load()
            except PASSED_THROUGH:
                raise
            except BaseException as error:  # a broken plugin must not stop the others
                where = f"{point.value} ({dist})" if dist else point.value
                registry.failures[point.name] = f"import of {where} failed: {describe_error(error)}"
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
        except PASSED_THROUGH:
            raise
        except BaseException as error:  # a hostile object (its attributes raise) included
            if manager.get_plugin(name) is plugin:
                manager.unregister(name=name)
            # ValueError: pluggy refuses an object already registered under another name
            invalid = isinstance(error, (pluggy.PluginValidationError, ValueError))
            self.failures[name] = (
                f"invalid plugin: {error}"
                if invalid
                else f"registering {self.label(name)} failed: {describe_error(error)}"
            )
            return
        if isinstance(plugin, ModuleType):
            module = home = plugin.__name__
        else:
            module, home = type(plugin).__qualname__, type(plugin).__module__
        self.plugins[name] = plugin
        self.info[name] = PluginInfo(name, module, dist, default, default or _builtin(home, dist))

    def label(self, name: str) -> str:
        """How messages name the plugin registered as ``name``."""
        info = self.info.get(name)
        return info.label if info is not None else plugin_label(name)

    def _collect_policies(self, manager: pluggy.PluginManager) -> None:
        """Each plugin's policy files, the built-in plugins' first, then the others in the
        order they loaded; the first plugin to ship a name keeps it."""
        rank = {name: (not info.builtin, k) for k, (name, info) in enumerate(self.info.items())}
        impls = sorted(
            manager.hook.margincall_policy_files.get_hookimpls(),
            key=lambda impl: rank.get(impl.plugin_name, (True, len(rank))),
        )
        for impl in impls:
            label = self.label(impl.plugin_name)
            try:
                files: list[Traversable] = list(cast("Iterable[Traversable]", impl.function()))
            except PASSED_THROUGH:
                raise
            except BaseException as error:  # a broken plugin must not stop the others
                self.failures[impl.plugin_name] = hook_failure(
                    label, "margincall_policy_files", error
                )
                continue
            for file in files:
                stem = file.name.removesuffix(".toml")
                owner = self.policies.get(stem)
                if owner is None:
                    self.policies[stem] = PolicyFile(stem, impl.plugin_name, file)
                    continue
                first = self.info[owner.plugin]
                self.failures[f"{impl.plugin_name}:{file.name}"] = (
                    f"{label} ships {file.name}, the name of a built-in policy of "
                    f"{first.label}; the built-in one is kept and this copy ignored"
                    if first.builtin
                    else f"{label} ships {file.name}, a policy {first.label} already ships; "
                    "the first one is kept and this copy ignored"
                )


def _builtin_point(point: EntryPoint) -> bool:
    dist = point.dist.name if point.dist is not None else None
    return _builtin(point.value.partition(":")[0].strip(), dist)


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
