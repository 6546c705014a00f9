"""Policy TOML: the schema, exact parsing, ``extends``, validation, and the one error type.

A policy file is data only: numbers are parsed as exact Decimals (``parse_float=Decimal``),
every key is checked against the schema (an unknown key is an error), every tier table is
checked for gaps, overlaps, negative rates and maintenance amounts that contradict the
recursion, and all problems are reported together in one :class:`~margincall.errors.PolicyError`
whose lines name the file, the key path and the reason. A file can name plugins, never code.
The schema is documented in ``docs/policy-schema.md``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from types import GenericAlias
from typing import Any, Literal, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import is_mapping, list_structure_factory, mapping_structure_factory

from margincall._compat import tomllib
from margincall.decimals import ONE, ZERO, exact, to_decimal
from margincall.errors import InvalidInputError, MargincallError, PluginError, PolicyError
from margincall.market import ContractType, Market
from margincall.math.tiers import Tier, recursive_amounts

SCHEMA_VERSION = 1

Grade = Literal["official", "official-copy", "secondary", "derived"]
TierModel = Literal["tax-bracket", "step"]
Parameter = Decimal | str
"""A venue parameter: an exact number or a string (``[parameters]``)."""


@attrs.frozen
class TierSpec:
    min_notional: Decimal
    max_notional: Decimal
    max_leverage: Decimal
    maintenance_margin_rate: Decimal
    maintenance_amount: Decimal | None = None


@attrs.frozen
class FeeRates:
    """``[fees]``: rates charged on the value traded."""

    maker: Decimal
    taker: Decimal
    liquidation: Decimal


@attrs.frozen
class FeeOverrides:
    """``[markets.SYMBOL.fees]``: per-market rates replacing the policy's ``[fees]``."""

    maker: Decimal | None = None
    taker: Decimal | None = None
    liquidation: Decimal | None = None


@attrs.frozen
class MarketSpec:
    contract_type: ContractType
    contract_size: Decimal
    tick_size: Decimal
    lot_size: Decimal
    settlement_currency: str
    tiers: tuple[TierSpec, ...]
    fees: FeeOverrides = FeeOverrides()
    tier_model: TierModel = "tax-bracket"
    parameters: Mapping[str, Parameter] = attrs.field(factory=dict)
    aliases: tuple[str, ...] = ()


@attrs.frozen
class Source:
    """One public source behind the policy: what rule it supports, where, and its date."""

    rule: str
    url: str
    date: str
    grade: Grade


@attrs.frozen
class InsuranceFundSpec:
    initial_balance: Decimal = ZERO
    max_net_notional_ratio: Decimal | None = None
    surplus_to: Literal["insurance-fund", "trader"] = "insurance-fund"


@attrs.frozen
class DeficitSpec:
    waterfall: tuple[str, ...]
    """Stage names: the built-in ones (:data:`~margincall.waterfall.DEFICIT_STAGES`) or a
    listed plugin's (checked when the policy loads, once its plugins are known)."""


@attrs.frozen
class AdlSpec:
    price: Literal["bankruptcy", "mark"] = "bankruptcy"
    fee: Literal["none", "maker", "taker"] = "none"


@attrs.frozen
class MarginSpec:
    """``[margin]``: how the maintenance margin is measured."""

    maintenance_value: Literal["mark", "entry"] = "mark"
    """The position value the maintenance margin (tier and requirement) is measured on: at
    the mark (most venues) or at the entry price (Bybit, whose liquidation price and trigger
    both use it)."""


@attrs.frozen
class ChasingSpec:
    annual_interest_rate: Decimal = ZERO


@attrs.frozen
class PolicySpec:
    """A policy file, validated. See ``docs/policy-schema.md`` for every key."""

    schema_version: int
    name: str
    venue: str
    description: str
    plugins: tuple[str, ...]
    parameters_date: str
    sources: tuple[Source, ...]
    fees: FeeRates
    markets: Mapping[str, MarketSpec]
    deficit: DeficitSpec
    insurance_fund: InsuranceFundSpec = InsuranceFundSpec()
    adl: AdlSpec = AdlSpec()
    chasing: ChasingSpec = ChasingSpec()
    margin: MarginSpec = MarginSpec()
    parameters: Mapping[str, Parameter] = attrs.field(factory=dict)

    def market_spec(self, symbol: str) -> MarketSpec | None:
        """The market ``symbol`` names, by its key or one of its ``aliases``; None if none."""
        if symbol in self.markets:
            return self.markets[symbol]
        return next((m for m in self.markets.values() if symbol in m.aliases), None)

    def parameter(self, key: str, symbol: str | None = None) -> Parameter | None:
        """A venue parameter: ``[markets.SYMBOL.parameters]`` when ``symbol`` sets ``key``,
        else ``[parameters]``; None when neither does."""
        market = self.market_spec(symbol) if symbol is not None else None
        if market is not None and key in market.parameters:
            return market.parameters[key]
        return self.parameters.get(key)

    def number(self, key: str, symbol: str | None = None) -> Decimal:
        """A numeric venue parameter (see :meth:`parameter`), for hooks of a plugin whose
        ``margincall_check_config`` has checked it; PluginError when it is missing or not
        a number (a plugin that reads a parameter it did not check)."""
        value = self.parameter(key, symbol)
        if not isinstance(value, Decimal):
            where = f"markets.{symbol}.parameters.{key}" if symbol else f"parameters.{key}"
            raise PluginError(
                f"{self.name}: {where}: expected a number, got {value!r}; a plugin reads "
                "only parameters its margincall_check_config checked"
            )
        return value


# --- the converter ------------------------------------------------------------------------


def _strict_decimal(value: object, _: object) -> Decimal:
    if isinstance(value, (Decimal, int, str)) and not isinstance(value, bool):
        return to_decimal(value, "value", bounded=True)
    raise InvalidInputError(f"expected a number, got {type(value).__name__} {value!r}")


def _strict_int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidInputError(f"expected an integer, got {type(value).__name__} {value!r}")


def _parameter(value: object, _: object) -> Parameter:
    if isinstance(value, str):
        return value
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return to_decimal(value, "value", bounded=True)
    raise InvalidInputError(f"expected a number or a string, got {_kind(value)} {value!r}")


def _strict_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date):  # TOML dates (parameters_date = 2024-10-24)
        return value.isoformat()
    raise InvalidInputError(f"expected a string, got {type(value).__name__} {value!r}")


def _kind(value: object) -> str:
    kinds = {dict: "a table", list: "an array", str: "a string", bool: "a boolean"}
    return next((k for t, k in kinds.items() if isinstance(value, t)), type(value).__name__)


def _is_homogeneous_tuple(type_: object) -> bool:
    args = get_args(type_)
    return get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_structure_factory(
    type_: Any, converter: cattrs.Converter
) -> Callable[[Any, Any], tuple[Any, ...]]:
    """``tuple[X, ...]`` from an array, through cattrs' list hook, so that every bad element
    is reported with its index (cattrs.cols gained a tuple factory only in cattrs 25)."""
    list_type: Any = GenericAlias(list, get_args(type_)[:1])  # list[X]
    as_list = list_structure_factory(list_type, converter)

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        return tuple(as_list(value, list))

    return structure


def _only(
    required: type, expected: str, factory: Callable[[Any, cattrs.Converter], Any]
) -> Callable[[Any, cattrs.Converter], Callable[[Any, Any], Any]]:
    """Wrap a cattrs hook factory so that it accepts only ``required`` values: without this a
    string would be read as an array of its letters, and an array as a table's keys."""

    def strict_factory(type_: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
        base = factory(type_, converter)

        def structure(value: object, target: Any) -> Any:
            if not isinstance(value, required):
                raise InvalidInputError(f"expected {expected}, got {_kind(value)} {value!r}")
            return base(value, target)

        return structure

    return strict_factory


def _converter() -> cattrs.Converter:
    # A plain Converter, not cattrs.preconf.tomllib's (new in cattrs 26.1): every hook this
    # reading needs is registered here, and TOML dates are read only as strings (_strict_str).
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(Decimal, _strict_decimal)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook_func(lambda t: t == Parameter, _parameter)
    converter.register_structure_hook_factory(
        _is_homogeneous_tuple, _only(list, "an array", _tuple_structure_factory)
    )
    converter.register_structure_hook_factory(
        is_mapping, _only(dict, "a table", mapping_structure_factory)
    )
    return converter


CONVERTER = _converter()

_LITERAL = re.compile(r"^(.*) not in literal typing\.Literal\[(.*)\]$")
_PATH_KEY = re.compile(r"\['([^']*)'\]")


def _format_exception(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, InvalidInputError):
        return str(exc).removeprefix("value: ")
    match = _LITERAL.search(str(exc))
    if match:
        return f"must be one of {match.group(2)}; got {match.group(1)!r}"
    if isinstance(exc, AttributeError) and exc.name == "keys":  # an attrs table given a non-table
        return f"expected a table, got {_kind(exc.obj)} {exc.obj!r}"
    return cattrs.v.format_exception(exc, type_)


def structure_problems(error: Exception, origin: str) -> list[str]:
    problems = []
    for line in cattrs.transform_error(error, path="$", format_exception=_format_exception):
        message, _, path = line.rpartition(" @ ")
        key = _PATH_KEY.sub(r".\1", path).removeprefix("$").removeprefix(".")
        problems.append(f"{origin}: {key or '(top level)'}: {message}")
    return problems


# --- reading, extends, validation ---------------------------------------------------------

Resolver = Callable[[str, str], tuple[str, str]]
"""``resolve(reference, origin) -> (text, origin)``: finds the policy an ``extends`` names."""


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _not_regular(mode: int) -> str:
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def read_text_file(
    path: str | os.PathLike[str],
    what: str,
    error: Callable[[str], MargincallError] = InvalidInputError,
) -> str:
    """The text of the regular file ``path``, read as UTF-8 (a leading UTF-8 byte-order mark
    is dropped), for every file margincall reads. Anything else raises one ``error`` naming
    the file, the ``what`` (``"scenario file"``) and the reason: a missing file, a directory,
    a FIFO or a device (refused from ``os.stat`` before the file is opened, so a FIFO never
    blocks and ``/dev/zero`` is never read), bytes that are not UTF-8 (with their position).
    """
    origin = os.fspath(path)

    def refuse(reason: str) -> MargincallError:
        return error(f"{origin}: cannot read {what}: {reason}")

    try:
        mode = os.stat(origin).st_mode  # follows symlinks: judges the file they lead to
    except OSError as problem:
        raise refuse(problem.strerror or str(problem)) from None
    except ValueError:  # a NUL character: no file can have that name
        raise refuse("the path contains a NUL character") from None
    if not stat.S_ISREG(mode):
        target = os.path.realpath(origin)
        via = f" (it leads to {target})" if target != os.path.abspath(origin) else ""
        raise refuse(f"it is {_not_regular(mode)}{via}; only regular files are read")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(origin, flags)  # non-blocking: a FIFO swapped in now cannot hang
        with os.fdopen(descriptor, "rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise refuse(f"it is {_not_regular(mode)}; only regular files are read")
            data = file.read()
    except OSError as problem:
        raise refuse(problem.strerror or str(problem)) from None
    if data.startswith(_UTF16_BOMS):
        raise error(
            f"{origin}: not UTF-8 text: it starts with a UTF-16 byte-order mark; save it as UTF-8"
        )
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as problem:
        at = problem.start
        line = data.count(b"\n", 0, at) + 1
        column = at - (data.rfind(b"\n", 0, at) + 1) + 1
        raise error(
            f"{origin}: not UTF-8 text: byte 0x{data[at]:02x} at line {line}, column {column} "
            f"(offset {at}) is not valid UTF-8; save the file as UTF-8"
        ) from None


MAX_DEPTH = 32
"""Deepest nesting of tables and arrays an input file may have (a policy needs 4)."""


def _too_deep(data: dict[str, Any]) -> str | None:
    """The key path of the first value nested deeper than :data:`MAX_DEPTH`, or None.
    Iterative: a hostile file cannot exhaust the stack here."""
    pending: list[tuple[object, str, int]] = [(data, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        if depth > MAX_DEPTH:
            return path
        if isinstance(value, dict):
            pending.extend(
                (v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in value.items()
            )
        elif isinstance(value, list):
            pending.extend((v, f"{path}[{k}]", depth + 1) for k, v in enumerate(value))
    return None


def _shorten(path: str, limit: int = 80) -> str:
    return path if len(path) <= limit else f"{path[:limit]}..."


_DOTTED = re.compile(
    rf"""(?<![\w"'-])(?:(?=([\w-]+|"[^"\n]*"|'[^'\n]*'))\1[ \t]*\.[ \t]*){{{MAX_DEPTH},}}"""
)
"""A dotted key of more than :data:`MAX_DEPTH` parts (``a.a.a....``), which tomllib reads in
time quadratic in its length; the lookahead makes each part atomic, so the search is linear."""


def parse_toml(text: str, origin: str) -> dict[str, Any]:
    """Parse TOML with every float as an exact Decimal; tables and arrays nested deeper than
    :data:`MAX_DEPTH` are refused (the parser would exhaust the stack, or the code after it,
    or take minutes over a long dotted key)."""
    too_deep = f"{origin}: invalid TOML: nested more than {MAX_DEPTH} tables or arrays deep"
    dotted = _DOTTED.search(text)
    if dotted is not None:
        line = text.count("\n", 0, dotted.start()) + 1
        raise PolicyError(f"{too_deep}, at line {line}: {_shorten(dotted.group(0), 40)}")
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{origin}: invalid TOML: {error}") from None
    except RecursionError:
        raise PolicyError(too_deep) from None
    deep = _too_deep(data)
    if deep is not None:
        raise PolicyError(f"{too_deep}, at {_shorten(deep)}")
    return data


T = TypeVar("T")


def structure_input(text: str, origin: str, cls: type[T]) -> T:
    """Parse an input file (an account, a scenario) into ``cls``: exact numbers, unknown keys
    refused, one InvalidInputError naming the file and the key of every problem."""
    try:
        raw = parse_toml(text, origin)
    except PolicyError as error:
        raise InvalidInputError(str(error)) from None
    try:
        return CONVERTER.structure(raw, cls)
    except Exception as error:  # cattrs raises exception groups of every problem
        raise InvalidInputError("\n".join(structure_problems(error, origin))) from None


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Child over parent: tables merge key by key, arrays and values replace, except
    ``sources``, which accumulate (a variant keeps its parent's provenance)."""
    merged = dict(parent)
    for key, value in child.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = _merge(old, value)
        elif key == "sources" and isinstance(old, list) and isinstance(value, list):
            merged[key] = old + value
        else:
            merged[key] = value
    return merged


def _with_parents(
    raw: dict[str, Any], origin: str, resolve: Resolver, chain: tuple[str, ...]
) -> dict[str, Any]:
    reference = raw.pop("extends", None)
    if reference is None:
        return raw
    if not isinstance(reference, str):
        raise PolicyError(f"{origin}: extends: expected a policy name or path, got {reference!r}")
    if "name" not in raw:
        raise PolicyError(f"{origin}: name: a policy that extends another needs its own name")
    text, parent_origin = resolve(reference, origin)
    if parent_origin in chain:
        cycle = " -> ".join((*chain, parent_origin))
        raise PolicyError(f"{origin}: extends: cycle {cycle}")
    parent = _with_parents(
        parse_toml(text, parent_origin), parent_origin, resolve, (*chain, parent_origin)
    )
    _validated(dict(parent), parent_origin)  # a parent is a policy: its problems are its own
    return _merge(parent, raw)


def _validated(raw: dict[str, Any], origin: str) -> PolicySpec:
    try:
        spec = CONVERTER.structure(raw, PolicySpec)
    except Exception as error:  # cattrs raises exception groups of every problem
        raise PolicyError(structure_problems(error, origin)) from None
    problems = _semantic_problems(spec)
    if problems:
        raise PolicyError([f"{origin}: {p}" for p in problems])
    return spec


def _fee_problems(fees: FeeRates | FeeOverrides, key: str) -> list[str]:
    problems = []
    for name in ("maker", "taker", "liquidation"):
        rate = getattr(fees, name)
        if rate is not None and not (-ONE < rate < ONE):
            problems.append(f"{key}.{name}: must be a fraction between -1 and 1, got {rate}")
        if name == "liquidation" and rate is not None and rate < 0:
            problems.append(f"{key}.{name}: must be >= 0, got {rate}")
    return problems


def _amounts(tiers: tuple[TierSpec, ...], model: TierModel) -> list[Decimal]:
    """The maintenance amounts of a tier table: the recursion, or all zero for step tiers."""
    if model == "step":
        return [ZERO] * len(tiers)
    return recursive_amounts(
        [t.min_notional for t in tiers], [t.maintenance_margin_rate for t in tiers]
    )


def _tier_problems(tiers: tuple[TierSpec, ...], key: str, model: TierModel) -> list[str]:
    if not tiers:
        return [f"{key}: at least one tier is required"]
    problems = []
    amounts = _amounts(tiers, model)
    for k, tier in enumerate(tiers):
        at = f"{key}[{k}]"
        rate, lev = tier.maintenance_margin_rate, tier.max_leverage
        if k == 0 and tier.min_notional != 0:
            problems.append(
                f"{at}.min_notional: the first tier must start at 0, got {tier.min_notional}"
            )
        if k > 0:
            previous = tiers[k - 1]
            if tier.min_notional > previous.max_notional:
                problems.append(
                    f"{at}.min_notional: {tier.min_notional} leaves a gap after "
                    f"tiers[{k - 1}].max_notional {previous.max_notional}"
                )
            elif tier.min_notional < previous.max_notional:
                problems.append(
                    f"{at}.min_notional: {tier.min_notional} overlaps "
                    f"tiers[{k - 1}], which ends at {previous.max_notional}"
                )
            if rate < previous.maintenance_margin_rate:
                problems.append(
                    f"{at}.maintenance_margin_rate: {rate} is below the previous tier's "
                    f"{previous.maintenance_margin_rate}; rates must not fall as positions grow"
                )
        if tier.max_notional <= tier.min_notional:
            problems.append(
                f"{at}.max_notional: {tier.max_notional} must be above "
                f"min_notional {tier.min_notional}"
            )
        if not ZERO <= rate < ONE:
            problems.append(f"{at}.maintenance_margin_rate: must be >= 0 and < 1, got {rate}")
        if lev <= 0:
            problems.append(f"{at}.max_leverage: must be > 0, got {lev}")
        elif rate * lev >= 1:
            problems.append(
                f"{at}.maintenance_margin_rate: {rate} is not below the initial margin rate "
                f"1/max_leverage = 1/{lev}; a position would be liquidated as it opens"
            )
        given = tier.maintenance_amount
        if given is not None and given != amounts[k]:
            recursion = (
                "the first tier's amount is 0"
                if k == 0
                else "a step table has no amounts (tier_model = 'step')"
                if model == "step"
                else f"the recursion gives {amounts[k]} = {amounts[k - 1]} + "
                f"{tier.min_notional} × ({rate} − {tiers[k - 1].maintenance_margin_rate})"
            )
            problems.append(
                f"{at}.maintenance_amount: {given} contradicts the recursion: {recursion}"
            )
    return problems


def _semantic_problems(spec: PolicySpec) -> list[str]:
    problems = []
    if spec.schema_version != SCHEMA_VERSION:
        problems.append(
            f"schema_version: this margincall reads schema {SCHEMA_VERSION}, "
            f"got {spec.schema_version}"
        )
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", spec.name):
        problems.append(f"name: {spec.name!r} must be lower-case letters, digits, '.', '_' or '-'")
    if not spec.sources:
        problems.append("sources: cite at least one public source for the policy's rules")
    problems += _fee_problems(spec.fees, "fees")
    if not spec.markets:
        problems.append("markets: at least one market is required")
    for symbol, market in spec.markets.items():
        key = f"markets.{symbol}"
        if market.contract_size <= 0:
            problems.append(f"{key}.contract_size: must be > 0, got {market.contract_size}")
        for step in ("tick_size", "lot_size"):
            if getattr(market, step) <= 0:
                problems.append(f"{key}.{step}: must be > 0, got {getattr(market, step)}")
        problems += _fee_problems(market.fees, f"{key}.fees")
        problems += _tier_problems(market.tiers, f"{key}.tiers", market.tier_model)
    named: dict[str, str] = {symbol: f"markets.{symbol}" for symbol in spec.markets}
    for symbol, market in spec.markets.items():
        for k, alias in enumerate(market.aliases):
            if alias in named:
                problems.append(
                    f"markets.{symbol}.aliases[{k}]: {alias!r} already names {named[alias]}"
                )
            else:
                named[alias] = f"markets.{symbol}"
    if not spec.deficit.waterfall:
        problems.append("deficit.waterfall: list at least one stage")
    for k, stage in enumerate(spec.deficit.waterfall):
        if stage in spec.deficit.waterfall[:k]:
            problems.append(f"deficit.waterfall[{k}]: {stage!r} is listed twice")
    if spec.insurance_fund.initial_balance < 0:
        problems.append(
            "insurance_fund.initial_balance: must be >= 0, "
            f"got {spec.insurance_fund.initial_balance}"
        )
    ratio = spec.insurance_fund.max_net_notional_ratio
    if ratio is not None and ratio < 0:
        problems.append(f"insurance_fund.max_net_notional_ratio: must be >= 0, got {ratio}")
    if spec.chasing.annual_interest_rate < 0:
        problems.append(
            f"chasing.annual_interest_rate: must be >= 0, got {spec.chasing.annual_interest_rate}"
        )
    return problems


def load_spec(text: str, origin: str, resolve: Resolver) -> PolicySpec:
    """Parse, merge parents, structure and validate one policy; raise one PolicyError."""
    with exact():
        return _validated(
            _with_parents(parse_toml(text, origin), origin, resolve, (origin,)), origin
        )


def build_markets(spec: PolicySpec) -> dict[str, Market]:
    """The runtime markets of a validated spec: fees resolved, maintenance amounts derived."""
    markets = {}
    for symbol, m in spec.markets.items():
        amounts = _amounts(m.tiers, m.tier_model)
        tiers = tuple(
            Tier(t.min_notional, t.max_notional, t.max_leverage, t.maintenance_margin_rate, a)
            for t, a in zip(m.tiers, amounts, strict=True)
        )
        fees = spec.fees
        markets[symbol] = Market(
            symbol=symbol,
            contract_type=m.contract_type,
            contract_size=m.contract_size,
            tick_size=m.tick_size,
            lot_size=m.lot_size,
            settlement_currency=m.settlement_currency,
            tiers=tiers,
            liquidation_fee_rate=_pick(m.fees.liquidation, fees.liquidation),
            maker_fee_rate=_pick(m.fees.maker, fees.maker),
            taker_fee_rate=_pick(m.fees.taker, fees.taker),
        )
        for alias in m.aliases:  # the same contract under a scenario's name for it
            markets[alias] = attrs.evolve(markets[symbol], symbol=alias)
    return markets


def _pick(override: Decimal | None, default: Decimal) -> Decimal:
    return default if override is None else override


def resolve_path(reference: str, origin: str) -> Path | None:
    """The file an ``extends`` path names, relative to the file that names it; None when
    ``reference`` is a policy name rather than a path."""
    if not reference.endswith(".toml"):
        return None
    path = Path(reference)
    if not path.is_absolute():
        if not Path(origin).is_file():
            raise PolicyError(
                f"{origin}: extends: {reference!r} is a relative path, but this policy is not "
                "a file on disk; extend a shipped policy by its name"
            )
        path = Path(origin).parent / path
    return path.resolve()  # normalised, so that a cycle through '..' is recognised
