"""The exceptions margincall raises. Every message names what was wrong, where, and why."""

from __future__ import annotations


class MargincallError(Exception):
    """Base class of every error margincall raises on purpose."""


class InvalidInputError(MargincallError, ValueError):
    """A value passed through the Python API or the command line is unusable.

    Examples: a negative size, zero leverage, NaN, a float where an exact amount is needed,
    an unknown symbol, a missing mark price.
    """


class PolicyError(MargincallError):
    """A policy could not be loaded: bad TOML, failed validation, unknown plugin or parent.

    ``problems`` holds one line per problem, each naming the file, the key path and the reason.
    Nothing of a policy that raised this is ever used.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class PluginError(MargincallError):
    """A plugin misbehaved: it broke a hook contract, or a hook implementation is unusable."""
