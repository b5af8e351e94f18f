"""Demo records behind the "1242" scoreboard: broker certification and training, member units with
their terms, the register of technology-transfer institutions, an influential-achievement flag, and a
2015–2020 history of technology contracts (the yearly series that the 翻一番 and faster-than-the-province
targets are computed on).

Deterministic: its own seeded ``random.Random`` and a fixed reference day (no clock), so the other demo
files do not change when this module does. All facts about named bodies are invented for the demo.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

__all__ = ["REFERENCE_DAY", "build_registries"]

REFERENCE_DAY = date(2026, 12, 1)
"""Continuing memberships are renewed past this day; lapsed ones end before it."""

_ISSUERS = ("河南省科学技术厅", "中国科学技术交流中心", "河南省技术市场协会")
_COURSES = (
    ("技术合同认定登记实务", 8),
    ("技术市场法规与政策", 8),
    ("技术经纪人（初级）培训班", 32),
    ("科技成果评价与知识产权运营", 16),
)
_TITLE_TRACKS = ("初级技术经理人", "中级技术经理人", "高级技术经理人")
_CONTRACT_TYPES = ("技术开发", "技术转让", "技术许可", "技术咨询", "技术服务")

# (org external id, kind, origin, since, recognition, recognised year)
_INSTITUTIONS: tuple[tuple[str, str, str, str, str, int | None], ...] = (
    ("ORG001", "区域综合性", "cultivated", "2016-06-18", "国家级示范机构", 2019),
    ("ORG002", "技术集成与经营", "cultivated", "2017-03-01", "省级示范机构", 2020),
    ("ORG003", "技术投融资服务", "cultivated", "2016-09-12", "省级示范机构", 2018),
    ("ORG004", "技术经纪", "cultivated", "2019-05-20", "无", None),
    ("ORG005", "技术经纪", "cultivated", "2018-04-08", "省级示范机构", 2021),
    ("ORG012", "高校技术转移机构", "cultivated", "2017-10-10", "国家级示范机构", 2020),
    ("ORG013", "高校技术转移机构", "cultivated", "2018-11-02", "无", None),
    ("ORG016", "高校技术转移机构", "cultivated", "2019-07-15", "省级示范机构", 2022),
    ("ORG019", "高校技术转移机构", "cultivated", "2020-03-30", "无", None),
    ("ORG020", "高校技术转移机构", "cultivated", "2021-06-01", "无", None),
    ("ORG028", "研发机构", "introduced", "2016-08-26", "无", None),
    ("ORG030", "研发机构", "introduced", "2018-01-16", "无", None),
    ("ORG031", "研发机构", "introduced", "2019-09-09", "无", None),
    ("ORG032", "行业专业性", "introduced", "2020-05-28", "省级示范机构", 2023),
    ("ORG033", "行业专业性", "introduced", "2019-06-06", "无", None),
    ("ORG034", "研发机构", "introduced", "2022-04-22", "无", None),
)
_INFLUENTIAL = (("A0106", "成果在省内三家龙头企业推广应用，经专家论证认定为有较大影响的转化项目"),)

# history: total contract amount of Henan per year (yuan) and Changyuan's share, 2015–2020
_PROVINCE_START = Decimal("8000000.00")
_PROVINCE_GROWTH = Decimal("1.16")
_CHANGYUAN = {2018: Decimal("600000.00"), 2019: Decimal("900000.00"), 2020: Decimal("1400000.00")}
_HISTORY_CITIES = ("410100", "410200", "410300", "410700", "411000", "411300")
_CHANGYUAN_CODE = "410783"


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _broker_registry(brokers: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Six brokers certified and trained (they count), one certified with too few hours, one not certified."""
    out = []
    for i, broker in enumerate(brokers):
        certified = i < len(brokers) - 1
        enough_hours = i < len(brokers) - 2
        level = ("高级", "中级", "初级")[i % 3] if certified else None
        certified_on = date(2017 + i % 6, 1 + (i * 5) % 12, 10 + i) if certified else None
        courses = list(_COURSES[:2]) + ([_COURSES[2 + i % 2]] if enough_hours else [])
        if not enough_hours:
            courses = courses[:1]
        start = certified_on or date(2021, 3, 1)
        trainings = [
            {
                "course": name,
                "hours": hours,
                "completed_on": (start - timedelta(days=30 * (k + 1))).isoformat(),
            }
            for k, (name, hours) in enumerate(courses)
        ]
        out.append(
            {
                "broker_external_id": broker["external_id"],
                "certification_level": level,
                "certificate_number": f"JSJJ-{certified_on.year}-{4101000 + i * 37:07d}"
                if certified_on
                else None,
                "certificate_issuer": rng.choice(_ISSUERS) if certified else None,
                "certified_on": certified_on.isoformat() if certified_on else None,
                "title_track": _TITLE_TRACKS[2 - i % 3] if certified else None,
                "status": "active",
                "trainings": trainings,
            }
        )
    return out


def _memberships(orgs: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Members join between 2016 and 2025 on three-year terms; most renew, about one in ten lapses (its
    last term ends before the reference day); a few non-members have applications pending review."""
    out: list[dict[str, Any]] = []
    tiers = ("会员单位",) * 6 + ("理事单位",) * 3 + ("常务理事单位",)
    for org in orgs:
        if not org["is_member"]:
            continue
        tier = rng.choice(tiers)
        applied = date(2016, 1, 1) + timedelta(days=rng.randrange(0, 365 * 9))
        lapses = rng.random() < 0.1
        start = applied + timedelta(days=rng.randint(7, 40))
        start = start.replace(day=min(start.day, 28))
        while True:
            end = start.replace(year=start.year + 3) - timedelta(days=1)
            out.append(
                {
                    "org_external_id": org["external_id"],
                    "tier": tier,
                    "status": "approved",
                    "applied_on": applied.isoformat(),
                    "reviewed_on": start.isoformat(),
                    "review_note": None,
                    "term_start": start.isoformat(),
                    "term_end": end.isoformat(),
                }
            )
            if end >= REFERENCE_DAY + timedelta(days=365) or (
                lapses and end < REFERENCE_DAY and end.year >= 2022
            ):
                break
            applied, start = end - timedelta(days=20), end + timedelta(days=1)
            start = start.replace(day=min(start.day, 28))
    pending = [o for o in orgs if not o["is_member"] and o["kind"] == "enterprise"][:4]
    for k, org in enumerate(pending):
        out.append(
            {
                "org_external_id": org["external_id"],
                "tier": "会员单位",
                "status": "applied",
                "applied_on": (REFERENCE_DAY - timedelta(days=10 + 7 * k)).isoformat(),
                "reviewed_on": None,
                "review_note": None,
                "term_start": None,
                "term_end": None,
            }
        )
    return out


def _history(orgs: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Registered, fully paid contracts of 2015–2020 across Henan, and Changyuan's from 2018."""
    enterprises: dict[str, list[dict[str, Any]]] = {}
    for o in orgs:
        if o["kind"] == "enterprise":
            enterprises.setdefault(o["region_code"][:6], []).append(o)
    sellers = [o for o in orgs if o["kind"] in ("university", "institute")]
    rows: list[dict[str, Any]] = []

    def add(year: int, region: str, amount: Decimal) -> None:
        buyer = rng.choice(enterprises.get(region, enterprises["410100"]))
        seller = rng.choice(sellers)
        signed = date(year, rng.randint(2, 11), rng.randint(1, 28))
        field = (buyer["fields"] or ["F02"])[0]
        n = len(rows) + 1
        rows.append(
            {
                "external_id": f"H{n:03d}",
                "contract_number": f"{year}{region}9{n:05d}",
                "contract_type": rng.choice(_CONTRACT_TYPES),
                "title": f"{seller['name']}与{buyer['name']}技术合同（{year}年）",
                "buyer_org_external_id": buyer["external_id"],
                "seller_org_external_id": seller["external_id"],
                "field_code": field,
                "region_code": region,
                "contract_amount": str(amount),
                "tech_transaction_amount": str((amount * Decimal("0.85")).quantize(Decimal("0.01"))),
                "signed_on": signed.isoformat(),
                "registration": {
                    "registrar_org_external_id": "ORG006",
                    "registered_amount": str(amount),
                    "registered_on": (signed + timedelta(days=30)).isoformat(),
                },
                "payments": [{"amount": str(amount), "paid_on": (signed + timedelta(days=60)).isoformat()}],
            }
        )

    for year in range(2015, 2021):
        total = (_PROVINCE_START * _PROVINCE_GROWTH ** (year - 2015)).quantize(Decimal("100"))
        shares = [Decimal(rng.randint(15, 30)) for _ in range(4)]
        cities = rng.sample(_HISTORY_CITIES, 4)
        parts = [(total * s / sum(shares)).quantize(Decimal("100")) for s in shares]
        parts[-1] = total - sum(parts[:-1])
        for city, part in zip(cities, parts, strict=True):
            add(year, city, part)
        if year in _CHANGYUAN:
            add(year, _CHANGYUAN_CODE, _CHANGYUAN[year])
    return rows


def build_registries(
    orgs: list[dict[str, Any]], brokers: list[dict[str, Any]], seed: int
) -> dict[str, list[dict[str, Any]]]:
    """The registry demo files, from the organisation and broker records of the main corpus."""
    rng = random.Random(seed + 14)
    return {
        "broker_registry": _broker_registry(brokers, rng),
        "memberships": _memberships(orgs, rng),
        "institutions": [
            {
                "org_external_id": org,
                "kind": kind,
                "origin": origin,
                "since": since,
                "recognition": recognition,
                "recognized_year": year,
            }
            for org, kind, origin, since, recognition, year in _INSTITUTIONS
        ],
        "influential_flags": [{"achievement_external_id": a, "reason": r} for a, r in _INFLUENTIAL],
        "history_contracts": _history(orgs, rng),
    }
