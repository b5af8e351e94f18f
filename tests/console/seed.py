"""A small marketplace for the console tests: organisations and users of every role, a few needs and
achievements (one need titled like an XSS probe), a matching run and its assignment to the broker, a
target for the current year and one subsidy rule. Everything goes through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import Broker, Organization, OrgKind, Role, TargetMetric, User
from models.schemas import AchievementCreate, NeedCreate, PolicyRuleCreate, TargetCreate
from models.validators import uscc_check_char
from services.actor import SYSTEM, Actor
from services.assignment import assign_matches
from services.index import IndexService
from services.matching import run_matching
from services.passwords import hash_password
from services.postings import create_achievement, create_need
from services.subsidies import create_policy_rule
from services.targets import create_target

PASSWORD = "console-test-pass"
XSS_TITLE = "<script>alert(1)</script>"
XSS_ACHIEVEMENT = "<img src=x onerror=alert(3)>金刚石线锯"
TARGET_CODE = "CONSOLE-YEAR"
TARGET_VALUE = Decimal("10000000.00")


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def _uscc(serial: int) -> str:
    first17 = f"9141010{serial:010d}"
    return first17 + uscc_check_char(first17)


@dataclass
class Seeded:
    org: dict[str, int] = field(default_factory=dict)
    user: dict[str, int] = field(default_factory=dict)
    broker_id: int = 0
    need: dict[str, int] = field(default_factory=dict)
    achievement: dict[str, int] = field(default_factory=dict)


_ORGS = (
    ("center", "国家技术转移郑州中心", OrgKind.TT_AGENCY),
    ("ent", "郑州晶锐光伏科技有限公司", OrgKind.ENTERPRISE),
    ("ent2", "洛阳精工机械有限公司", OrgKind.ENTERPRISE),
    ("uni", "郑州大学", OrgKind.UNIVERSITY),
    ("registry", "郑州市技术合同登记处", OrgKind.REGISTRATION_AGENCY),
)
_USERS = (
    ("admin", "center", Role.ADMIN, "王管理"),
    ("broker", "center", Role.BROKER, "李经纪"),
    ("enterprise", "ent", Role.ENTERPRISE, "张企业"),
    ("enterprise2", "ent2", Role.ENTERPRISE, "赵企业"),
    ("institution", "uni", Role.INSTITUTION, "陈教授"),
    ("registrar", "registry", Role.REGISTRAR, "刘登记"),
)


def _people(engine: Engine, seeded: Seeded) -> None:
    with Session(engine) as s:
        for serial, (key, name, kind) in enumerate(_ORGS, start=1):
            org = Organization(name=name, kind=kind, uscc=_uscc(serial), region_code="410100", is_member=True)
            s.add(org)
            s.flush()
            seeded.org[key] = org.id or 0
        for key, org_key, role, display in _USERS:
            user = User(
                username=key,
                display_name=display,
                role=role,
                org_id=seeded.org[org_key],
                password_hash=password_hash(),
            )
            s.add(user)
            s.flush()
            seeded.user[key] = user.id or 0
        broker = Broker(
            user_id=seeded.user["broker"],
            org_id=seeded.org["center"],
            field_codes=["F03", "F02"],
            region_codes=["410100"],
        )
        s.add(broker)
        s.flush()
        seeded.broker_id = broker.id or 0
        s.commit()


def _actor(seeded: Seeded, key: str, role: Role, org: str) -> Actor:
    return Actor(user_id=seeded.user[key], org_id=seeded.org[org], role=role)


_NEEDS = {
    "saw": NeedCreate(
        title="光伏硅片金刚石线锯切割损耗高，寻求细线化切割技术",
        description="我公司生产单晶光伏硅片，现有金刚石线锯切割损耗大、断线率高。希望引进细粒度金刚石线锯制备技术，"
        "降低切割损耗，提高硅片良率。",
        field_code="F03.01",
        keywords=["金刚石线锯", "光伏硅片", "切割损耗"],
        budget_min=Decimal("500000"),
        budget_max=Decimal("3000000"),
        modes=["转让", "合作开发"],
    ),
    "xss": NeedCreate(
        title=XSS_TITLE,
        description="需求描述 <b>粗体</b> 与 <img src=x onerror=alert(2)>：寻求金刚石线锯切割工艺的技术改进。",
        field_code="F03.01",
        keywords=["金刚石线锯", "<i>切割</i>"],
    ),
}
_ACHIEVEMENTS = {
    "wire": AchievementCreate(
        title="细粒度金刚石线锯制备技术",
        abstract="本成果开发了细粒度金刚石微粉电镀线锯制备工艺。该线锯切割光伏硅片时断线率降低40%，切割损耗减少25%。"
        "已完成中试，具备产业化条件。",
        field_code="F03.01",
        keywords=["金刚石线锯", "光伏硅片", "电镀"],
        maturity="中试",
        ip_type="发明专利",
        ip_number="ZL201910000001.1",
        asking_price=Decimal("1500000"),
        modes=["转让", "许可"],
    ),
    "carbon": AchievementCreate(
        title="高性能碳纤维复合材料成型工艺",
        abstract="面向轨道交通轻量化的碳纤维复合材料快速模压成型技术，成型周期缩短一半。",
        field_code="F03.02",
        keywords=["碳纤维", "复合材料"],
        maturity="小试",
        asking_price=Decimal("800000"),
        modes=["许可"],
    ),
    "xss": AchievementCreate(
        title=XSS_ACHIEVEMENT,
        abstract="<script>alert(4)</script>一种金刚石线锯的在线检测装备。",
        field_code="F02.01",
        maturity="实验室",
    ),
}


def seed_marketplace(engine: Engine, index: IndexService) -> Seeded:
    """The whole test world; returns the ids the tests need."""
    seeded = Seeded()
    _people(engine, seeded)
    ent = _actor(seeded, "enterprise", Role.ENTERPRISE, "ent")
    uni = _actor(seeded, "institution", Role.INSTITUTION, "uni")
    for key, need in _NEEDS.items():
        seeded.need[key] = int(create_need(engine, index, ent, need)["id"])
    for key, achievement in _ACHIEVEMENTS.items():
        seeded.achievement[key] = int(create_achievement(engine, index, uni, achievement)["id"])
    run_matching(engine, index, SYSTEM, k=5)
    assign_matches(engine, SYSTEM)
    year = datetime.now(UTC).year
    create_target(
        engine,
        SYSTEM,
        TargetCreate(
            code=TARGET_CODE,
            name="郑州中心年度技术合同成交额",
            scope="center",
            metric=TargetMetric.CONTRACT_TURNOVER,
            period_start=date(year, 1, 1),
            period_end=date(year, 12, 31),
            value=TARGET_VALUE,
        ),
    )
    create_policy_rule(
        engine,
        SYSTEM,
        PolicyRuleCreate(
            code="M2",
            name="技术输出单位奖补",
            rate=Decimal("0.02"),
            base="prior_year_contract_turnover",
            cap=Decimal("500000"),
            per="unit",
            period="year",
        ),
    )
    return seeded
