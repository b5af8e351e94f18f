"""Shipped reference data: it loads, its codes are consistent, and every citation points at a seed
line that really says what the entry claims (checked when ../shared/seeds is present)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from data.reference import (
    CITATION_PATTERN,
    field_name,
    is_known_field,
    is_known_region,
    load_fields,
    load_policy_rules,
    load_regions,
    load_sub_centers,
    load_targets,
    region_ancestors,
    region_city,
    region_name,
)
from models.validators import FIELD_CODE_PATTERN, REGION_CODE_PATTERN

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
FILES = ("fields.json", "regions.json", "targets.json", "policy_rules.json")
CITIES = {
    "410100": "郑州市", "410200": "开封市", "410300": "洛阳市", "410400": "平顶山市", "410500": "安阳市",
    "410600": "鹤壁市", "410700": "新乡市", "410800": "焦作市", "410900": "濮阳市", "411000": "许昌市",
    "411100": "漯河市", "411200": "三门峡市", "411300": "南阳市", "411400": "商丘市", "411500": "信阳市",
    "411600": "周口市", "411700": "驻马店市", "419001": "济源市",
}  # fmt: skip


def _raw(name: str) -> dict[str, Any]:
    text = resources.files("data.reference").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _cited_entries(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object that carries a ``source`` list, however deeply nested."""
    if isinstance(node, dict):
        if "source" in node:
            yield node
        for value in node.values():
            yield from _cited_entries(value)
    elif isinstance(node, list):
        for value in node:
            yield from _cited_entries(value)


def _seed_lines() -> dict[str, list[str]]:
    if not SEEDS.is_dir():
        pytest.skip("seed documents not available")
    lines: dict[str, list[str]] = {}
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8").split("\n")
        lines[path.name[:3]] = text[:-1] if text and text[-1] == "" else text  # numbering as awk NR
    return lines


ALL_ENTRIES = [(name, entry) for name in FILES for entry in _cited_entries(_raw(name))]


def test_loaders_return_the_expected_sizes() -> None:
    fields = load_fields()
    assert [f.code for f in fields] == [f"F{i:02d}" for i in range(1, 18)] + ["X"]
    assert all(f.subfields for f in fields if not f.cross_cutting)
    regions = load_regions()
    assert {r.code: r.name for r in regions if r.level == "city"} == CITIES
    assert {r.level for r in regions} == {"province", "city", "county", "park"}
    assert len(load_sub_centers()) == 4
    assert {t.code for t in load_policy_rules()} == {"M1", "M2", "M3", "M4"}
    assert len(load_targets()) >= 10


def test_loaders_are_cached() -> None:
    assert load_fields() is load_fields()
    assert load_regions() is load_regions()


@pytest.mark.parametrize(
    ("name", "entry"), ALL_ENTRIES, ids=[f"{n}:{e.get('code', '')}" for n, e in ALL_ENTRIES]
)
def test_citation_form(name: str, entry: dict[str, Any]) -> None:
    assert entry["source"], f"{name} entry without source"
    for citation in entry["source"]:
        match = CITATION_PATTERN.match(citation)
        assert match, citation
        assert match["end"] is None or int(match["end"]) > int(match["start"])


@pytest.mark.parametrize(
    ("name", "entry"), ALL_ENTRIES, ids=[f"{n}:{e.get('code', '')}" for n, e in ALL_ENTRIES]
)
def test_citations_point_at_seed_lines_that_say_it(name: str, entry: dict[str, Any]) -> None:
    seeds = _seed_lines()
    cited = []
    for citation in entry["source"]:
        match = CITATION_PATTERN.match(citation)
        assert match and match["seed"] in seeds, f"{citation}: no such seed file"
        start, end = int(match["start"]), int(match["end"] or match["start"])
        assert 1 <= start <= end <= len(seeds[match["seed"]]), f"{citation}: line out of range"
        block = seeds[match["seed"]][start - 1 : end]
        assert "".join(block).strip(), f"{citation}: cited line is empty"
        cited.append("".join(block))
    quote = entry.get("quote") or entry.get("short_name")
    if quote:
        squash = re.compile(r"\s+")
        assert squash.sub("", quote) in squash.sub("", "".join(cited)), f"{quote!r} not in {entry['source']}"


@pytest.mark.parametrize("name", FILES)
def test_codes_unique_per_file(name: str) -> None:
    codes = [e["code"] for e in _cited_entries(_raw(name)) if "code" in e]
    assert codes and len(codes) == len(set(codes))


def test_codes_fit_the_model_validators() -> None:
    for f in load_fields():
        assert FIELD_CODE_PATTERN.match(f.code)
        assert all(FIELD_CODE_PATTERN.match(s.code) and s.code.startswith(f.code + ".") for s in f.subfields)
    for r in load_regions():
        assert REGION_CODE_PATTERN.match(r.code), r.code


def test_region_codes_follow_their_parents() -> None:
    by_code = {r.code: r for r in load_regions()}
    for r in load_regions():
        if r.level == "city":
            assert r.parent == "410000" and (r.code.endswith("00") or r.code == "419001")
        elif r.level == "county":
            assert r.official and r.parent is not None and r.code[:4] == r.parent[:4], r.code
        elif r.level == "park":
            assert not r.official and re.fullmatch(rf"{r.parent}P\d\d", r.code), r.code
            assert by_code[r.parent or ""].level in {"province", "city", "county"}


def test_region_helpers() -> None:
    assert region_city("410783") == "410700"  # 长垣 belongs to 新乡
    assert region_city("410225P01") == "410200"  # 兰考 park -> 兰考县 -> 开封
    assert region_city("410100") == "410100"
    assert region_city("410000P01") is None and region_city("410000") is None
    assert region_ancestors("410222P01") == ("410222P01", "410222", "410200", "410000")
    assert region_name("410783") == "长垣市"
    assert is_known_region("411523") and not is_known_region("999999")
    with pytest.raises(KeyError):
        region_name("999999")


def test_sub_centres_cover_every_city_but_zhengzhou_once() -> None:
    covered = [c for center in load_sub_centers() for c in center.covers]
    assert len(covered) == len(set(covered))
    assert set(covered) == set(CITIES) - {"410100"}
    assert all(center.inferred and center.host_city in center.covers for center in load_sub_centers())


def test_field_helpers() -> None:
    assert field_name("F02.02") == "起重装备"
    assert field_name("X") == "军民融合"
    assert is_known_field("F17") and is_known_field("F03.01")
    assert not is_known_field("F18") and not is_known_field("f01")
    with pytest.raises(KeyError):
        field_name("F99")


def test_targets_hold_the_seed_figures() -> None:
    by_key = {(t.region, t.metric, t.period_end.year): t for t in load_targets()}
    zhengzhou = by_key[("410100", "contract_turnover", 2024)]
    assert zhengzhou.value == Decimal("80000000000") and zhengzhou.comparator == "gt" and zhengzhou.draft
    kaifeng = by_key[("410200", "contract_turnover", 2025)]
    assert kaifeng.value == Decimal("2000000000") and kaifeng.baseline_value == Decimal("256000000")
    center = by_key[("410000", "technology_transaction_amount", 2020)]
    assert center.value == Decimal("10000000000") and center.period_start.year == 2016
    assert by_key[("410000", "brokers", 2020)].value == 1000
    assert by_key[("410000", "member_units", 2020)].value == 1000
    assert by_key[("410000", "influential_achievements", 2020)].value == 100


def test_target_value_types_follow_the_unit() -> None:
    metrics = _raw("targets.json")["metrics"]
    for t in load_targets():
        assert t.metric in metrics and t.unit == metrics[t.metric]["unit"]
        if t.value is None:
            assert t.growth_factor is not None or t.relative_to is not None, t.code
        elif t.unit == "yuan":
            assert isinstance(t.value, Decimal) and t.value > 0
        else:
            assert isinstance(t.value, int) and not isinstance(t.value, bool) and t.value > 0
        assert is_known_region(t.region) and t.period_start <= t.period_end


def test_policy_rules_hold_the_seed_rates_and_caps() -> None:
    rules = {r.code: r for r in load_policy_rules()}
    assert (rules["M1"].rate, rules["M1"].cap, rules["M1"].base) == (
        Decimal("0.30"),
        Decimal("5000000"),
        "actual_payments",
    )
    assert (rules["M2"].rate, rules["M2"].cap, rules["M2"].per) == (
        Decimal("0.02"),
        Decimal("500000"),
        "unit",
    )
    assert (rules["M3"].rate, rules["M3"].per, rules["M3"].period) == (Decimal("0.0002"), "registrar", "year")
    assert (rules["M4"].rate, rules["M4"].base) == (Decimal("0.20"), "actual_investment")
    assert all(r.draft and r.jurisdiction == "410100" for r in rules.values())


@pytest.mark.parametrize("raw", _raw("policy_rules.json")["rules"], ids=lambda r: r["code"])
def test_policy_rule_worked_examples(raw: dict[str, Any]) -> None:
    rule = {r.code: r for r in load_policy_rules()}[raw["code"]]
    for example in raw["examples"]:
        assert rule.max_subsidy(Decimal(example["base"])) == Decimal(example["subsidy"])
    assert rule.max_subsidy(Decimal("1e12")) == rule.cap
    assert rule.max_subsidy(Decimal("0")) == Decimal("0.00")
    with pytest.raises(ValueError):
        rule.max_subsidy(Decimal("-1"))
