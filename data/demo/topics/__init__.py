"""Vocabulary of the demo corpus: technical topics as problem -> solution pairs.

Each JSON file beside this module holds *families* (one industry object, e.g. cranes) with several
*pairs* (one technical topic each). A pair has the enterprise's side (symptoms, goal, problem
keywords) and one to two solutions in academic wording (title, challenge, method, effect, solution
keywords). Needs are written from the first side and achievements from the second, so a true match
shares meaning but little wording. Placeholders ``{p} {q} {a} {n} {x} {d}`` become numbers when the
text is generated (see ``data.demo.text``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["Family", "Pair", "Solution", "load_families"]


@dataclass(frozen=True, slots=True)
class Solution:
    """How an achievement solves a pair's problem; ``relevance`` 2 solves it, 1 helps partly."""

    title: str
    challenge: str
    method: str
    effect: str
    keywords: tuple[str, ...]
    relevance: int


@dataclass(frozen=True, slots=True)
class Pair:
    """One technical topic: the objects it concerns, the problem an enterprise has, the solutions."""

    key: str
    objects: tuple[str, ...]
    problems: tuple[str, ...]
    goal: str
    keywords: tuple[str, ...]
    solutions: tuple[Solution, ...]


@dataclass(frozen=True, slots=True)
class Family:
    """Topics around one industrial object, with the places and prices typical for it."""

    key: str
    field: str
    subfield: str
    cities: tuple[str, ...]
    industry: str
    product: str
    software: bool
    objects: tuple[str, ...]
    apps: tuple[str, ...]
    price_wan: tuple[int, int]
    pairs: tuple[Pair, ...]

    def topic_key(self, pair: Pair) -> str:
        """Stable id of a topic, e.g. ``crane/antisway``."""
        return f"{self.key}/{pair.key}"


def _solution(raw: dict[str, Any]) -> Solution:
    return Solution(
        title=raw["title"],
        challenge=raw["challenge"],
        method=raw["method"],
        effect=raw["effect"],
        keywords=tuple(raw["akw"]),
        relevance=int(raw.get("rel", 2)),
    )


def _pair(raw: dict[str, Any], family_objects: list[str]) -> Pair:
    solutions = tuple(_solution(s) for s in raw["solutions"])
    if not solutions or solutions[0].relevance != 2:
        raise ValueError(f"pair {raw['key']!r}: the first solution must fully solve the problem")
    return Pair(
        key=raw["key"],
        objects=tuple(raw.get("objects", family_objects)),
        problems=tuple(raw["problem"]),
        goal=raw["goal"],
        keywords=tuple(raw["nkw"]),
        solutions=solutions,
    )


def _family(raw: dict[str, Any]) -> Family:
    low, high = raw["price"]
    return Family(
        key=raw["key"],
        field=raw["field"],
        subfield=raw["subfield"],
        cities=tuple(raw["cities"]),
        industry=raw["industry"],
        product=raw["product"],
        software=bool(raw.get("software", False)),
        objects=tuple(raw["objects"]),
        apps=tuple(raw["apps"]),
        price_wan=(int(low), int(high)),
        pairs=tuple(_pair(p, raw["objects"]) for p in raw["pairs"]),
    )


@cache
def load_families() -> tuple[Family, ...]:
    """All families, in file-name order then file order (the order the generator relies on)."""
    folder = resources.files(__name__)
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".json"))
    families = tuple(
        _family(raw)
        for name in names
        for raw in json.loads(folder.joinpath(name).read_text(encoding="utf-8"))
    )
    keys = [f.key for f in families]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate family keys in the demo topics")
    return families
