"""Demo needs, achievements and the gold pairs between them.

Topics are split into three roles: *solved* (needs plus 1-3 achievements that answer them: the gold
pairs), *unsolved* (needs with no answer in the corpus) and *supply* (achievements nobody asked
for). Achievements of other topics in the same family share its objects and applications, so they
are hard distractors. Gold achievements always pass the needs' hard filters (field, budget, modes,
maturity, visibility) so that a filtered search can still find them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from data.demo.orgs import Org
from data.demo.text import (
    MATURITY_TRL,
    achievement_abstract,
    achievement_title,
    fill_numbers,
    ip_number,
    need_description,
    need_title,
)
from data.demo.topics import Family, Pair
from data.reference import region_name

__all__ = ["Topic", "build_achievements", "build_needs", "gold_pairs", "lexical_overlap", "plan_topics"]

MODES = ("转让", "许可", "作价入股", "合作开发", "技术服务")
_MODE_WEIGHTS = (3, 2, 1, 3, 2)
MATURITIES = ("实验室", "小试", "中试", "产业化")
_MATURITY_WEIGHTS = (2, 2.5, 3, 2.5)


@dataclass
class Topic:
    """A pair of a family with its role in the corpus and the records made from it."""

    family: Family
    pair: Pair
    role: str
    n_needs: int = 0
    n_achievements: int = 0
    needs: list[dict[str, Any]] = field(default_factory=list)
    achievements: list[tuple[dict[str, Any], int]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.family.topic_key(self.pair)


def plan_topics(
    families: tuple[Family, ...], rng: random.Random, *, n_needs: int, n_achievements: int, n_supply: int
) -> list[Topic]:
    """Assign roles and record counts to every topic; three quarters of need topics are solved."""
    topics = [Topic(f, p, "") for f in families for p in f.pairs]
    rng.shuffle(topics)
    supply, demand = topics[:n_supply], topics[n_supply:]
    if not 0 < len(demand) <= n_needs:
        raise ValueError("not enough topics for the requested number of needs")
    for topic in supply:
        topic.role = "supply"
    for i, topic in enumerate(demand):
        topic.role = "unsolved" if i % 4 == 3 else "solved"
        topic.n_needs = 1
    for topic in rng.sample(demand, n_needs - len(demand)):
        topic.n_needs += 1
    for topic in demand:
        if topic.role == "solved":
            topic.n_achievements = rng.choices((1, 2, 3), weights=(3, 4.5, 2.5))[0]
    left = n_achievements - sum(t.n_achievements for t in demand)
    if left < len(supply):
        raise ValueError("too few achievements left for the supply topics")
    for i in range(left):
        supply[i % len(supply)].n_achievements += 1
    return topics


def _weighted_sample(
    items: tuple[str, ...], weights: tuple[float, ...], k: int, rng: random.Random
) -> list[str]:
    pool, w = list(items), list(weights)
    picked: list[str] = []
    for _ in range(k):
        i = rng.choices(range(len(pool)), weights=w)[0]
        picked.append(pool.pop(i))
        w.pop(i)
    return sorted(picked, key=items.index)


def _money(wan: int) -> str:
    return f"{wan * 10000}.00"


def _terms_sentence(modes: list[str], min_maturity: str | None, budget_wan: int) -> str:
    stage = {
        None: "",
        "小试": "要求技术已完成小试验证，",
        "中试": "要求技术已完成中试验证，",
        "产业化": "要求技术已有产业化应用案例，",
    }[min_maturity]
    return f"合作方式可以是{'或'.join(modes)}，{stage}预算约{budget_wan}万元。"


def _one_need(topic: Topic, obj: str, owner: Org, rng: random.Random, *, with_object: bool) -> dict[str, Any]:
    family, pair = topic.family, topic.pair
    goal = fill_numbers(pair.goal, rng)
    low, high = family.price_wan
    budget_max = max(10, round(rng.randint(low, high) / 5) * 5)
    budget_min = max(1, round(budget_max * rng.uniform(0.3, 0.7)))
    modes = _weighted_sample(MODES, _MODE_WEIGHTS, rng.choices((1, 2, 3), weights=(3, 4, 2))[0], rng)
    min_maturity = rng.choices((None, "小试", "中试", "产业化"), weights=(13, 3, 3, 1))[0]
    description = need_description(
        family,
        pair,
        obj=obj,
        goal=goal,
        place=region_name(owner.region_code),
        tag=rng.choice(owner.tags),
        rng=rng,
    )
    if min_maturity is not None or rng.random() < 0.6:
        description += _terms_sentence(modes, min_maturity, budget_max)
    keywords = list(dict.fromkeys([*pair.keywords, obj]))
    published = date(2024, 1, 1) + timedelta(days=rng.randint(0, 545))
    return {
        "external_id": "",
        "org_external_id": owner.external_id,
        "title": need_title(pair, obj, goal, rng, with_object=with_object),
        "description": description,
        "field_code": family.field,
        "subfield_code": family.subfield,
        "keywords": keywords,
        "region_code": owner.region_code,
        "budget_min": _money(budget_min),
        "budget_max": _money(budget_max),
        "modes": modes,
        "min_maturity": min_maturity,
        "deadline": (date(2027, 1, 1) + timedelta(days=rng.randint(0, 364))).isoformat(),
        "visibility": "public",
        "status": "open",
        "published_on": published.isoformat(),
    }


def build_needs(
    topics: list[Topic], enterprises: dict[str, list[Org]], rng: random.Random, *, n_confidential: int
) -> list[dict[str, Any]]:
    """All needs, shuffled and numbered N0001…; ``n_confidential`` of them are confidential."""
    needs: list[dict[str, Any]] = []
    turn: dict[str, int] = {}
    for topic in topics:
        objects = rng.sample(topic.pair.objects, min(topic.n_needs, len(topic.pair.objects)))
        for i in range(topic.n_needs):
            owners = enterprises[topic.family.key]
            owner = owners[turn.get(topic.family.key, 0) % len(owners)]
            turn[topic.family.key] = turn.get(topic.family.key, 0) + 1
            need = _one_need(topic, objects[i % len(objects)], owner, rng, with_object=i > 0)
            topic.needs.append(need)
            needs.append(need)
    rng.shuffle(needs)
    for i, need in enumerate(needs, start=1):
        need["external_id"] = f"N{i:04d}"
    for need in rng.sample(needs, n_confidential):
        need["visibility"] = "confidential"
    return needs


def _maturity(required: str | None, rng: random.Random) -> str:
    start = MATURITIES.index(required) if required else 0
    return rng.choices(MATURITIES[start:], weights=_MATURITY_WEIGHTS[start:])[0]


def _ip_type(family: Family, rng: random.Random) -> str:
    if family.software:
        return rng.choices(("软件著作权", "发明专利", "技术秘密"), weights=(6, 3, 1))[0]
    return rng.choices(("发明专利", "实用新型", "技术秘密"), weights=(65, 23, 12))[0]


def _offer(topic: Topic, rng: random.Random) -> tuple[int, list[str], str | None]:
    """Asking price (万元), modes and required maturity that every need of the topic accepts."""
    low, high = topic.family.price_wan
    modes = set(_weighted_sample(MODES, _MODE_WEIGHTS, rng.randint(1, 2), rng))
    if not topic.needs:
        return max(1, rng.randint(low, high)), sorted(modes, key=MODES.index), None
    cap = min(int(n["budget_max"].split(".")[0]) // 10000 for n in topic.needs)
    modes |= {rng.choice(n["modes"]) for n in topic.needs}
    stages = [n["min_maturity"] for n in topic.needs if n["min_maturity"]]
    required = max(stages, key=MATURITIES.index) if stages else None
    return max(1, int(cap * rng.uniform(0.4, 1.0))), sorted(modes, key=MODES.index), required


def _one_achievement(
    topic: Topic, variant: int, owner: Org, rng: random.Random
) -> tuple[dict[str, Any], int]:
    family = topic.family
    solution = topic.pair.solutions[variant % len(topic.pair.solutions)]
    price, modes, required = _offer(topic, rng)
    maturity, ip_type = _maturity(required, rng), _ip_type(family, rng)
    published = date(2023, 6, 1) + timedelta(days=rng.randint(0, 760))
    record = {
        "external_id": "",
        "org_external_id": owner.external_id,
        "title": achievement_title(solution, variant // len(topic.pair.solutions)),
        "abstract": achievement_abstract(family, solution, maturity=maturity, ip_type=ip_type, rng=rng),
        "field_code": family.field,
        "subfield_code": family.subfield,
        "keywords": list(dict.fromkeys([*solution.keywords, family.apps[0]])),
        "region_code": owner.region_code,
        "maturity": maturity,
        "trl": rng.randint(*MATURITY_TRL[maturity]),
        "ip_type": ip_type,
        "ip_number": ip_number(ip_type, rng),
        "asking_price": _money(price),
        "modes": modes,
        "visibility": "confidential" if topic.role == "supply" and rng.random() < 0.08 else "public",
        "status": "open",
        "published_on": published.isoformat(),
    }
    return record, solution.relevance


def build_achievements(
    topics: list[Topic], institutions: list[Org], rng: random.Random
) -> list[dict[str, Any]]:
    """All achievements, shuffled and numbered A0001…, owned by institutions of the topic's field."""
    achievements: list[dict[str, Any]] = []
    for topic in topics:
        eligible = [o for o in institutions if topic.family.field in o.fields]
        if not eligible:
            raise ValueError(f"no institution works in field {topic.family.field}")
        owners = rng.sample(eligible, len(eligible))
        for variant in range(topic.n_achievements):
            record, relevance = _one_achievement(topic, variant, owners[variant % len(owners)], rng)
            topic.achievements.append((record, relevance))
            achievements.append(record)
    rng.shuffle(achievements)
    for i, record in enumerate(achievements, start=1):
        record["external_id"] = f"A{i:04d}"
    return achievements


def _bigrams(*texts: str) -> set[str]:
    chars = "".join(c for text in texts for c in text if "\u4e00" <= c <= "\u9fff")
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def lexical_overlap(need: dict[str, Any], achievement: dict[str, Any]) -> float:
    """Jaccard similarity of the CJK character bigrams of both texts, to slice evaluation by wording."""
    a = _bigrams(need["title"], need["description"], *need["keywords"])
    b = _bigrams(achievement["title"], achievement["abstract"], *achievement["keywords"])
    return round(len(a & b) / len(a | b), 3) if a | b else 0.0


def gold_pairs(topics: list[Topic]) -> list[dict[str, Any]]:
    """Every need of a solved topic paired with every achievement of that topic."""
    pairs = [
        {
            "need_external_id": need["external_id"],
            "achievement_external_id": ach["external_id"],
            "relevance": relevance,
            "topic": topic.key,
            "overlap": lexical_overlap(need, ach),
        }
        for topic in topics
        for need in topic.needs
        for ach, relevance in topic.achievements
    ]
    return sorted(pairs, key=lambda p: (p["need_external_id"], p["achievement_external_id"]))
