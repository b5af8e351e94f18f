"""Demo organisations, their users and the brokers.

Universities and institutes are real public bodies of Henan named in the seeds; new R&D
institutions, technology-transfer firms and enterprises with a brand name are invented
(``fictional: true``). Every unified social credit code is synthetic (see ``data.demo.uscc``).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from data.demo.text import person_name
from data.demo.topics import Family
from data.demo.uscc import make_uscc
from data.reference import load_regions, load_sub_centers, region_city

__all__ = ["Org", "build_brokers", "build_enterprises", "build_fixed_orgs", "build_users"]

ENTERPRISE_TAGS = ("高新技术企业", "科技型中小企业", "专精特新", "瞪羚企业", "创新龙头企业", "规上工业企业")
_BRAND_FIRST = "擎拓衡澄崧睿沐峻昱铧楷钧泓煜砺岚祺璟昶骐"
_BRAND_SECOND = "宇曜岳峰禾辰驰垣朗瑞泰晟航锋丰沅澜屹川源"
_SUFFIXES = ("有限公司", "有限公司", "科技有限公司", "股份有限公司")

# name, kind, region, fields, tags, USCC prefix, fictional
_FIXED: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], str, bool], ...] = (
    ("国家技术转移郑州中心", "tt_agency", "410100P05", (), ("国家级技术转移平台",), "12", False),
    ("郑州技术交易市场", "tt_agency", "410100", (), ("技术交易市场",), "91", False),
    ("河南省技术产权交易所", "tt_agency", "410100", (), ("技术产权交易机构",), "91", False),
    ("开封汴科技术转移服务有限公司", "tt_agency", "410200", (), ("省级技术转移示范机构",), "91", True),
    ("洛阳河洛技术转移中心有限公司", "tt_agency", "410300", (), ("技术转移机构",), "91", True),
    ("郑州市技术合同认定登记服务中心", "registration_agency", "410100", (), ("事业类登记机构",), "12", True),
    ("开封市技术合同登记服务站", "registration_agency", "410200", (), ("社会化登记机构",), "52", True),
    (
        "郑州大学",
        "university",
        "410100",
        ("F01", "F02", "F03", "F04", "F05", "F06", "F07", "F08", "F10", "F13", "F16"),
        ("双一流高校",),
        "12",
        False,
    ),
    (
        "河南大学",
        "university",
        "410200",
        ("F03", "F05", "F08", "F11", "F13", "F15", "F16", "F17"),
        ("双一流高校",),
        "12",
        False,
    ),
    ("河南农业大学", "university", "410100", ("F11", "F12", "F06", "F13"), ("省属高校",), "12", False),
    ("河南工业大学", "university", "410100", ("F12", "F02", "F11", "F03"), ("省属高校",), "12", False),
    ("河南科技大学", "university", "410300", ("F02", "F04", "F03", "F07", "F11"), ("省属高校",), "12", False),
    ("河南理工大学", "university", "410800", ("F14", "F06", "F02", "F13", "F03"), ("省属高校",), "12", False),
    ("河南师范大学", "university", "410700", ("F06", "F08", "F05", "F03"), ("省属高校",), "12", False),
    ("华北水利水电大学", "university", "410100", ("F13", "F06", "F14", "F01"), ("省属高校",), "12", False),
    (
        "郑州轻工业大学",
        "university",
        "410100",
        ("F12", "F01", "F05", "F07", "F17"),
        ("省属高校",),
        "12",
        False,
    ),
    ("河南中医药大学", "university", "410100", ("F09", "F08"), ("省属高校",), "12", False),
    ("新乡医学院", "university", "410700", ("F08", "F10"), ("省属高校",), "12", False),
    ("黄河水利职业技术学院", "university", "410200", ("F13", "F01", "F15"), ("职业院校",), "12", False),
    ("开封大学", "university", "410200", ("F05", "F12", "F15", "F17"), ("应用型本科",), "12", False),
    ("南阳理工学院", "university", "411300", ("F09", "F02", "F01"), ("应用型本科",), "12", False),
    (
        "河南省科学院",
        "institute",
        "410100P05",
        ("F01", "F03", "F06", "F16", "F13", "F14"),
        ("省属科研院所",),
        "12",
        False,
    ),
    ("河南省农业科学院", "institute", "410100", ("F11", "F12"), ("省属科研院所",), "12", False),
    (
        "中国科学院过程工程研究所郑州分所",
        "institute",
        "410100",
        ("F05", "F13", "F03", "F04"),
        ("中科院院所",),
        "12",
        False,
    ),
    ("开封市农林科学研究院", "institute", "410200", ("F11",), ("市属科研院所",), "12", False),
    (
        "郑州信大先进技术研究院",
        "new_rd_institution",
        "410100",
        ("F01", "F14", "F16"),
        ("省级新型研发机构",),
        "12",
        False,
    ),
    (
        "洛阳先进材料产业技术研究院",
        "new_rd_institution",
        "410300P01",
        ("F03", "F04", "F02"),
        ("省级新型研发机构",),
        "52",
        True,
    ),
    (
        "新乡储能与动力电池产业技术研究院",
        "new_rd_institution",
        "410700P03",
        ("F06", "F07"),
        ("省级新型研发机构",),
        "91",
        True,
    ),
    (
        "长垣医疗器械与高分子材料产业研究院",
        "new_rd_institution",
        "410783P03",
        ("F10", "F03", "F08"),
        ("重大新型研发机构",),
        "52",
        True,
    ),
    (
        "许昌智能电力装备创新研究院",
        "new_rd_institution",
        "411000",
        ("F02", "F06"),
        ("市级新型研发机构",),
        "91",
        True,
    ),
    (
        "漯河食品产业技术研究院",
        "new_rd_institution",
        "411100",
        ("F12", "F11"),
        ("市级新型研发机构",),
        "52",
        True,
    ),
)


@dataclass
class Org:
    """An organisation while the corpus is built; ``record()`` gives its JSONL form."""

    external_id: str
    name: str
    kind: str
    region_code: str
    uscc: str
    tags: tuple[str, ...]
    fields: tuple[str, ...] = ()
    fictional: bool = True
    is_member: bool = False
    sub_center_code: str | None = None
    family_key: str | None = None
    users: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return {
            "external_id": self.external_id,
            "name": self.name,
            "kind": self.kind,
            "uscc": self.uscc,
            "region_code": self.region_code,
            "tags": list(self.tags),
            "is_member": self.is_member,
            "fields": list(self.fields),
            "sub_center_code": self.sub_center_code,
            "fictional": self.fictional,
        }


def _admin_code(region_code: str) -> str:
    """Six-digit code of the registering authority: the county if official, else the city."""
    official = {r.code for r in load_regions() if r.official}
    if region_code in official:
        return region_code
    return region_city(region_code) or "410000"


def _new_org(orgs: list[Org], rng: random.Random, **kwargs: Any) -> Org:
    prefix = kwargs.pop("prefix")
    used = {o.uscc for o in orgs}
    uscc = make_uscc(prefix, _admin_code(kwargs["region_code"]), rng)
    while uscc in used:
        uscc = make_uscc(prefix, _admin_code(kwargs["region_code"]), rng)
    org = Org(external_id=f"ORG{len(orgs) + 1:03d}", uscc=uscc, is_member=rng.random() < 0.6, **kwargs)
    orgs.append(org)
    return org


def build_fixed_orgs(rng: random.Random) -> list[Org]:
    """Transfer agencies, registrars, sub-centres, universities, institutes and new R&D institutions."""
    orgs: list[Org] = []
    for name, kind, region, _fields, tags, prefix, fictional in _FIXED[:7]:
        _new_org(
            orgs, rng, name=name, kind=kind, region_code=region, tags=tags, prefix=prefix, fictional=fictional
        )
    for center in load_sub_centers():
        _new_org(
            orgs,
            rng,
            name=center.name,
            kind="sub_center",
            region_code=center.host_city,
            tags=("技术转移分中心",),
            prefix="12",
            fictional=True,
            sub_center_code=center.code,
        )
    for name, kind, region, fields, tags, prefix, fictional in _FIXED[7:]:
        _new_org(
            orgs,
            rng,
            name=name,
            kind=kind,
            region_code=region,
            tags=tags,
            fields=fields,
            prefix=prefix,
            fictional=fictional,
        )
    return orgs


def _place_short(region_code: str) -> str:
    regions = {r.code: r for r in load_regions()}
    region = regions[region_code]
    if region.level == "park":
        region = regions[region_city(region_code) or region_code]
    return region.short_name


def build_enterprises(
    orgs: list[Org], families: tuple[Family, ...], needs_per_family: dict[str, int], rng: random.Random
) -> dict[str, list[Org]]:
    """Invented enterprises: about one per two needs of a family, in its least-served cities first."""
    brands = [a + b for a in _BRAND_FIRST for b in _BRAND_SECOND if a != b]
    rng.shuffle(brands)
    by_family: dict[str, list[Org]] = {}
    per_city: Counter[str | None] = Counter(region_city(o.region_code) for o in orgs)
    for family in families:
        count = max(1, min(len(family.cities), (needs_per_family.get(family.key, 0) + 1) // 2))
        spread = sorted(family.cities, key=lambda c: (per_city[region_city(c)], family.cities.index(c)))
        for region in spread[:count]:
            per_city[region_city(region)] += 1
            tags = tuple(sorted(rng.sample(ENTERPRISE_TAGS, rng.randint(1, 3)), key=ENTERPRISE_TAGS.index))
            name = f"{_place_short(region)}{brands.pop()}{family.industry}{rng.choice(_SUFFIXES)}"
            org = _new_org(
                orgs,
                rng,
                name=name,
                kind="enterprise",
                region_code=region,
                tags=tags,
                fields=(family.field,),
                prefix="91",
                fictional=True,
                family_key=family.key,
            )
            by_family.setdefault(family.key, []).append(org)
    return by_family


_ROLE_PREFIX = {
    "enterprise": ("enterprise", "ent"),
    "university": ("institution", "inst"),
    "institute": ("institution", "inst"),
    "new_rd_institution": ("institution", "inst"),
    "registration_agency": ("registrar", "reg"),
    "sub_center": ("admin", "sc"),
}


def build_users(
    orgs: list[Org], brokers_per_agency: dict[str, int], rng: random.Random
) -> list[dict[str, Any]]:
    """One account per organisation, the brokers of each agency, and the platform administrator."""
    users: list[dict[str, Any]] = []
    counters: dict[str, int] = {}

    def add(org: Org, role: str, prefix: str) -> None:
        counters[prefix] = counters.get(prefix, 0) + 1
        username = "admin" if prefix == "admin" else f"{prefix}{counters[prefix]:03d}"
        user = {
            "external_id": f"U{len(users) + 1:03d}",
            "username": username,
            "display_name": person_name(rng),
            "role": role,
            "org_external_id": org.external_id,
        }
        users.append(user)
        org.users.append(user["external_id"])

    add(orgs[0], "admin", "admin")
    for org in orgs:
        if org.kind == "tt_agency":
            for _ in range(brokers_per_agency.get(org.external_id, 0)):
                add(org, "broker", "broker")
        else:
            role, prefix = _ROLE_PREFIX[org.kind]
            add(org, role, prefix)
    return users


def build_brokers(
    orgs: list[Org], users: list[dict[str, Any]], fields: list[str], cities: list[str], rng: random.Random
) -> list[dict[str, Any]]:
    """Broker profiles: fields and cities dealt round-robin so every field and city is covered."""
    org_by_id = {o.external_id: o for o in orgs}
    broker_users = [u for u in users if u["role"] == "broker"]
    n = len(broker_users)
    brokers = []
    for i, user in enumerate(broker_users):
        employer = org_by_id[user["org_external_id"]]
        own = [f for j, f in enumerate(fields) if j % n == i]
        extra = rng.choice([f for f in fields if f not in own])
        home = region_city(employer.region_code) or employer.region_code
        regions = [c for j, c in enumerate(cities) if j % n == i]
        brokers.append(
            {
                "external_id": f"B{i + 1:02d}",
                "user_external_id": user["external_id"],
                "org_external_id": employer.external_id,
                "field_codes": sorted({*own, extra}),
                "region_codes": sorted({home, *regions}),
                "capacity": rng.randint(8, 20),
                "title": rng.choice(("技术经纪人", "技术经理人", "高级技术经纪人")),
            }
        )
    return brokers
