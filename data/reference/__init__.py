"""Shipped reference data: field taxonomy, regions, targets and subsidy rules.

The JSON files beside this module are the single source; every entry cites the seed lines it
comes from (``"000:L741"``). Loaders parse them once into frozen value objects (money as
``Decimal``) and cache the result, so callers may use them freely. Files are read through
``importlib.resources`` so the package also works when installed as a wheel.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal, cast

__all__ = [
    "CITATION_PATTERN",
    "Field",
    "PolicyRule",
    "Region",
    "RegionLevel",
    "SubCenter",
    "SubField",
    "Target",
    "field_name",
    "is_known_field",
    "is_known_region",
    "load_documents",
    "load_fields",
    "load_policy_rules",
    "load_regions",
    "load_sub_centers",
    "load_targets",
    "region_ancestors",
    "region_city",
    "region_name",
]

CITATION_PATTERN = re.compile(r"^(?P<seed>\d{3}):L(?P<start>\d+)(?:-L(?P<end>\d+))?$")
"""Citation form of the seeds digest: seed file key, line, optional end line (``003:L233-L239``)."""

RegionLevel = Literal["province", "city", "county", "park"]
_MONEY = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SubField:
    """A second-level field (``F02.02`` 起重装备)."""

    code: str
    name: str
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Field:
    """A top-level technology field; ``cross_cutting`` marks tags such as X 军民融合."""

    code: str
    name: str
    full_name: str
    tags: tuple[str, ...]
    cross_cutting: bool
    subfields: tuple[SubField, ...]
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Region:
    """A province, city, county or park; ``official`` is true for GB/T 2260 codes."""

    code: str
    name: str
    short_name: str
    level: RegionLevel
    parent: str | None
    official: bool
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SubCenter:
    """A 分中心 of the Zhengzhou Center and the cities it serves (an inference, see regions.json)."""

    code: str
    name: str
    host_city: str
    covers: tuple[str, ...]
    inferred: bool
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Target:
    """A goal on one metric for one scope and period; ``value`` is None for relative goals."""

    code: str
    scope: str
    region: str
    metric: str
    unit: Literal["yuan", "count"]
    label_zh: str
    comparator: Literal["gt", "ge", "eq"]
    value: Decimal | int | None
    growth_factor: Decimal | None
    relative_to: str | None
    baseline_value: Decimal | None
    baseline_date: date | None
    period_start: date
    period_end: date
    inferred_period: bool
    draft: bool
    source: tuple[str, ...]
    note: str | None
    quote: str = ""


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """A contract-based subsidy: ``min(rate * base, cap)`` per ``per`` and ``period``."""

    code: str
    name: str
    rate: Decimal
    rate_is_maximum: bool
    base: Literal[
        "actual_payments", "prior_year_contract_turnover", "registered_turnover", "actual_investment"
    ]
    cap: Decimal
    per: Literal["project", "unit", "registrar"]
    period: Literal["project", "year"]
    jurisdiction: str
    draft: bool
    eligibility: str
    source: tuple[str, ...]

    def max_subsidy(self, base_amount: Decimal) -> Decimal:
        """Largest subsidy the rule allows for one base amount, rounded to fen."""
        if base_amount < 0:
            raise ValueError("base amount must not be negative")
        return min(self.rate * base_amount, self.cap).quantize(_MONEY, rounding=ROUND_HALF_UP)


def _read_json(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))


def _sources(raw: list[str]) -> tuple[str, ...]:
    if not raw:
        raise ValueError("every reference entry needs at least one source")
    for citation in raw:
        if not CITATION_PATTERN.match(citation):
            raise ValueError(f"bad citation {citation!r}")
    return tuple(raw)


def _money(raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    if not re.fullmatch(r"\d+(\.\d{1,2})?", raw):
        raise ValueError(f"money must be a non-negative decimal string, got {raw!r}")
    return Decimal(raw).quantize(_MONEY)


def _unique(codes: list[str], what: str) -> None:
    if len(codes) != len(set(codes)):
        raise ValueError(f"duplicate {what} codes")


@cache
def load_fields() -> tuple[Field, ...]:
    """All fields (F01-F17 and X), in file order."""
    fields = tuple(
        Field(
            code=f["code"],
            name=f["name"],
            full_name=f["full_name"],
            tags=tuple(f["tags"]),
            cross_cutting=bool(f["cross_cutting"]),
            subfields=tuple(SubField(s["code"], s["name"], _sources(s["source"])) for s in f["subfields"]),
            source=_sources(f["source"]),
        )
        for f in _read_json("fields.json")["fields"]
    )
    codes = [f.code for f in fields] + [s.code for f in fields for s in f.subfields]
    _unique(codes, "field")
    for f in fields:
        if any(not s.code.startswith(f.code + ".") for s in f.subfields):
            raise ValueError(f"sub-field code outside its parent {f.code}")
    return fields


@cache
def _field_names() -> dict[str, str]:
    names = {f.code: f.name for f in load_fields()}
    names.update({s.code: s.name for f in load_fields() for s in f.subfields})
    return names


def is_known_field(code: str) -> bool:
    """True for a top-level field (``F03``), a sub-field (``F03.01``) or the X tag."""
    return code in _field_names()


def field_name(code: str) -> str:
    """Chinese name of a field or sub-field; raises KeyError for an unknown code."""
    return _field_names()[code]


@cache
def load_regions() -> tuple[Region, ...]:
    """All regions, parents before children as in the file."""
    regions = tuple(
        Region(
            code=r["code"],
            name=r["name"],
            short_name=r["short_name"],
            level=r["level"],
            parent=r["parent"],
            official=bool(r["official"]),
            source=_sources(r["source"]),
        )
        for r in _read_json("regions.json")["regions"]
    )
    _unique([r.code for r in regions], "region")
    seen: set[str] = set()
    for r in regions:
        if r.level not in ("province", "city", "county", "park"):
            raise ValueError(f"bad level {r.level!r} for {r.code}")
        if (r.parent is None) != (r.level == "province") or (r.parent is not None and r.parent not in seen):
            raise ValueError(f"region {r.code} must follow its parent")
        seen.add(r.code)
    return regions


@cache
def _regions_by_code() -> dict[str, Region]:
    return {r.code: r for r in load_regions()}


@cache
def load_sub_centers() -> tuple[SubCenter, ...]:
    """The four sub-centres (inferred names and coverage)."""
    regions = _regions_by_code()
    centers = tuple(
        SubCenter(
            code=s["code"],
            name=s["name"],
            host_city=s["host_city"],
            covers=tuple(s["covers"]),
            inferred=bool(s["inferred"]),
            source=_sources(s["source"]),
        )
        for s in _read_json("regions.json")["sub_centers"]
    )
    _unique([c.code for c in centers], "sub-centre")
    for c in centers:
        if any(
            regions.get(code) is None or regions[code].level != "city" for code in (c.host_city, *c.covers)
        ):
            raise ValueError(f"sub-centre {c.code} must cover known cities")
    return centers


def is_known_region(code: str) -> bool:
    """True for any province, city, county or park code in regions.json."""
    return code in _regions_by_code()


def region_name(code: str) -> str:
    """Full Chinese name of a region; raises KeyError for an unknown code."""
    return _regions_by_code()[code].name


def region_ancestors(code: str) -> tuple[str, ...]:
    """Codes from the region itself up to the province (``410783 -> 410700 -> 410000``)."""
    regions = _regions_by_code()
    chain: list[str] = []
    current: str | None = code
    while current is not None:
        chain.append(current)
        current = regions[current].parent
    return tuple(chain)


def region_city(code: str) -> str | None:
    """The city a city, county or park belongs to; None for the province or province-wide zones."""
    regions = _regions_by_code()
    return next((c for c in region_ancestors(code) if regions[c].level == "city"), None)


def _target(raw: dict[str, Any], units: dict[str, str]) -> Target:
    metric = raw["metric"]
    unit = cast(Literal["yuan", "count"], units[metric])
    value = raw["value"]
    parsed: Decimal | int | None
    if value is None:
        parsed = None
    elif unit == "yuan":
        parsed = _money(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        parsed = value
    else:
        raise ValueError(f"count target {raw['code']} needs an integer value")
    baseline = raw["baseline"] or {}
    growth = raw["growth_factor"]
    return Target(
        code=raw["code"],
        scope=raw["scope"],
        region=raw["region"],
        metric=metric,
        unit=unit,
        label_zh=raw["label_zh"],
        comparator=raw["comparator"],
        value=parsed,
        growth_factor=None if growth is None else Decimal(growth),
        relative_to=raw["relative_to"],
        baseline_value=_money(baseline.get("value")),
        baseline_date=date.fromisoformat(baseline["date"]) if baseline.get("date") else None,
        period_start=date.fromisoformat(raw["period_start"]),
        period_end=date.fromisoformat(raw["period_end"]),
        inferred_period=bool(raw["inferred_period"]),
        draft=bool(raw["draft"]),
        source=_sources(raw["source"]),
        note=raw["note"],
        quote=raw.get("quote") or "",
    )


@cache
def load_targets() -> tuple[Target, ...]:
    """All targets; money values are Decimal yuan, counts int."""
    data = _read_json("targets.json")
    units = {name: spec["unit"] for name, spec in data["metrics"].items()}
    targets = tuple(_target(t, units) for t in data["targets"])
    _unique([t.code for t in targets], "target")
    for t in targets:
        if not is_known_region(t.region) or t.period_end < t.period_start:
            raise ValueError(f"target {t.code} has an unknown region or an empty period")
    return targets


@cache
def load_documents() -> dict[str, str]:
    """Titles of the policy documents the citations name, by their key (``"000"`` in ``000:L747``)."""
    return dict(_read_json("targets.json")["documents"])


@cache
def load_policy_rules() -> tuple[PolicyRule, ...]:
    """Subsidy rules M1-M4 with Decimal rate and cap."""
    rules = tuple(
        PolicyRule(
            code=r["code"],
            name=r["name"],
            rate=Decimal(r["rate"]),
            rate_is_maximum=bool(r["rate_is_maximum"]),
            base=r["base"],
            cap=cast(Decimal, _money(r["cap"])),
            per=r["per"],
            period=r["period"],
            jurisdiction=r["jurisdiction"],
            draft=bool(r["draft"]),
            eligibility=r["eligibility"],
            source=_sources(r["source"]),
        )
        for r in _read_json("policy_rules.json")["rules"]
    )
    _unique([r.code for r in rules], "policy rule")
    for r in rules:
        if not (Decimal(0) < r.rate <= 1) or not is_known_region(r.jurisdiction):
            raise ValueError(f"policy rule {r.code} has a bad rate or jurisdiction")
    return rules
