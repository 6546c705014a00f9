"""The reference docs stay true to the code: every hook documented, every policy key
documented, and every policy example marked as loading still loads.

Conventions these tests rely on:

* ``docs/hooks.md`` names every hook as a heading (``### `margincall_...` ``) or in code.
* ``docs/policy-schema.md`` has, for each table of the policy file, a heading holding the
  table's header in backticks (``## `[fees]` ``, ``## `[[markets.SYMBOL.tiers]]` ``; the top
  level is the heading "Top-level keys"), and in that section a table row per key whose first
  cell is the key in backticks (``| `maker` | ...``).
* A ```` ```toml ```` block in ``docs/policy-schema.md`` preceded by a line
  ``<!-- loads -->`` (blank lines may separate them) is a complete policy that must load.
  ``<!-- loads: NAME.toml -->`` also gives the file name it is written under, so that a later
  block can ``extends`` it by a relative path. Blocks are written to one directory and loaded
  in document order.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs
import pytest

import margincall as mc
from margincall import config, hookspecs

DOCS = Path(__file__).parents[1] / "docs"
HOOKS = DOCS / "hooks.md"
GUIDE = DOCS / "writing-a-plugin.md"
SCHEMA = DOCS / "policy-schema.md"

MAPPING_KEYS = {"markets": "SYMBOL"}
"""The placeholder the schema doc uses for the keys of a table of tables."""

TOP_LEVEL = "Top-level keys"


def hook_names() -> list[str]:
    return sorted(
        name
        for name, obj in vars(hookspecs).items()
        if name.startswith("margincall_") and inspect.isfunction(obj)
    )


def headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"#{1,6} ", line)]


def in_code(text: str, word: str) -> bool:
    """``word`` inside an inline code span or a fenced code block."""
    spans = re.findall(r"```.*?```|`[^`\n]+`", text, re.S)
    return any(re.search(rf"\b{re.escape(word)}\b", span) for span in spans)


# --- (a) hooks ----------------------------------------------------------------------------


def test_hookspecs_define_hooks() -> None:
    assert len(hook_names()) >= 14, hook_names()


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_in_the_hook_reference(hook: str) -> None:
    text = HOOKS.read_text(encoding="utf-8")
    as_heading = any(hook in line for line in headings(text))
    assert as_heading or in_code(text, hook), f"docs/hooks.md does not document {hook}"


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_in_the_guide_or_the_reference(hook: str) -> None:
    texts = [GUIDE.read_text(encoding="utf-8"), HOOKS.read_text(encoding="utf-8")]
    assert any(in_code(text, hook) for text in texts), f"{hook} is in neither doc"


def test_the_hook_reference_names_no_hook_that_does_not_exist() -> None:
    documented = {
        name
        for line in headings(HOOKS.read_text(encoding="utf-8"))
        for name in re.findall(r"margincall_\w+", line)
    }
    assert documented <= set(hook_names()), documented - set(hook_names())


# --- (b) every policy key -----------------------------------------------------------------


def _unwrap_optional(type_: object) -> object:
    """``X`` for ``X | None``; anything else unchanged."""
    args = typing.get_args(type_)
    if typing.get_origin(type_) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return type_


Table = tuple[str, type, tuple[str, ...]]
"""A table of the policy file: its TOML header, its attrs class, its key path."""


def _nested(field: attrs.Attribute[object], path: tuple[str, ...]) -> Table | None:
    """The TOML header, class and key path of the table ``field`` holds; None for a value."""
    type_ = _unwrap_optional(field.type)
    origin, args = typing.get_origin(type_), typing.get_args(type_)
    keys = (*path, field.name)
    if isinstance(type_, type) and attrs.has(type_):
        return f"[{'.'.join(keys)}]", type_, keys
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis and attrs.has(args[0]):
        return f"[[{'.'.join(keys)}]]", args[0], keys
    if isinstance(origin, type) and issubclass(origin, Mapping) and attrs.has(args[1]):
        keys = (*keys, MAPPING_KEYS.get(field.name, "KEY"))
        return f"[{'.'.join(keys)}]", args[1], keys
    return None


def schema_tables() -> Iterator[tuple[str, type]]:
    """(TOML header, attrs class) of every table of a policy file, walked from PolicySpec."""

    def walk(header: str, cls: type, path: tuple[str, ...]) -> Iterator[tuple[str, type]]:
        attrs.resolve_types(cls, vars(config))
        yield header, cls
        for field in attrs.fields(cls):
            nested = _nested(field, path)
            if nested is not None:
                yield from walk(*nested)

    yield from walk(TOP_LEVEL, config.PolicySpec, ())


def section(text: str, title: str) -> str:
    """The text under the heading holding ``title`` (in backticks unless it is the top level),
    up to the next heading of the same or a higher level."""
    lines = text.splitlines()
    wanted = title if title == TOP_LEVEL else f"`{title}`"
    for i, line in enumerate(lines):
        match = re.match(r"(#{1,6}) ", line)
        if match and wanted in line:
            level = len(match.group(1))
            body = []
            for following in lines[i + 1 :]:
                other = re.match(r"(#{1,6}) ", following)
                if other and len(other.group(1)) <= level:
                    break
                body.append(following)
            return "\n".join(body)
    raise AssertionError(f"docs/policy-schema.md has no heading for {wanted}")


SCHEMA_FIELDS = [
    pytest.param(header, field.name, id=f"{header}.{field.name}")
    for header, cls in schema_tables()
    for field in attrs.fields(cls)
]


def test_the_walk_finds_every_nested_spec_class() -> None:
    found = {cls for _, cls in schema_tables()}
    expected = {
        config.PolicySpec, config.Source, config.FeeRates, config.MarketSpec,
        config.FeeOverrides, config.TierSpec, config.InsuranceFundSpec, config.DeficitSpec,
        config.AdlSpec, config.ChasingSpec,
    }  # fmt: skip
    assert expected <= found, expected - found


@pytest.mark.parametrize(("header", "key"), SCHEMA_FIELDS)
def test_every_policy_key_is_documented(header: str, key: str) -> None:
    body = section(SCHEMA.read_text(encoding="utf-8"), header)
    assert re.search(rf"^\|\s*`{re.escape(key)}`\s*\|", body, re.M), (
        f"docs/policy-schema.md, section {header}: no table row for `{key}`"
    )


def test_extends_is_documented_as_a_top_level_key() -> None:
    body = section(SCHEMA.read_text(encoding="utf-8"), TOP_LEVEL)
    assert re.search(r"^\|\s*`extends`\s*\|", body, re.M)


# --- (c) the examples load ----------------------------------------------------------------

LOADS = re.compile(
    r"^<!--\s*loads(?::\s*(?P<name>[\w.-]+\.toml))?\s*-->[ \t]*\n"  # the marker line
    r"(?:[ \t]*\n)*"  # blank lines
    r"```toml\n(?P<body>.*?)^```",
    re.S | re.M,
)


def loading_examples() -> list[tuple[str | None, str]]:
    text = SCHEMA.read_text(encoding="utf-8")
    return [(m.group("name"), m.group("body")) for m in LOADS.finditer(text)]


def test_the_schema_doc_marks_examples_that_load() -> None:
    examples = loading_examples()
    assert len(examples) >= 3, "expected the minimal, full and variant examples to be marked"
    marked = len(re.findall(r"^<!--\s*loads", SCHEMA.read_text(encoding="utf-8"), re.M))
    assert marked == len(examples), "a <!-- loads --> marker is not followed by a toml block"


def test_every_marked_example_loads(tmp_path: Path) -> None:
    for k, (name, body) in enumerate(loading_examples()):
        path = tmp_path / (name or f"example-{k}.toml")
        path.write_text(body, encoding="utf-8")
        try:
            policy = mc.load_policy(path)
        except mc.MargincallError as error:
            pytest.fail(f"example {k} ({path.name}) of policy-schema.md does not load:\n{error}")
        assert policy.name
