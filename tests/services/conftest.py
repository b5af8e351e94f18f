"""A small marketplace for the workflow tests: organisations in Zhengzhou, Kaifeng and Luoyang, their
users, two brokers, two registration agencies and an admin, seeded directly with the model classes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matcher.config import EngineConfig
from matcher.encoders import EncoderConfig, create_encoder
from models import (
    AuditEvent,
    Broker,
    Contract,
    Match,
    Message,
    Organization,
    OrgKind,
    Payment,
    Registration,
    Role,
    User,
)
from models.schemas import ContractCreate
from models.validators import uscc_check_char
from services.actor import Actor
from services.index import IndexService

# (key, name, kind, region, is_member)
ORGS = [
    ("ent", "郑州盾构装备有限公司", OrgKind.ENTERPRISE, "410105", False),
    ("ent2", "开封空分设备有限公司", OrgKind.ENTERPRISE, "410200", False),
    ("uni", "郑州工业大学", OrgKind.UNIVERSITY, "410100", True),
    ("uni2", "郑州材料研究院", OrgKind.INSTITUTE, "410100", False),
    ("inst", "洛阳轴承研究所", OrgKind.INSTITUTE, "410300", False),
    ("agency", "中原技术转移中心", OrgKind.TT_AGENCY, "410100", True),
    ("agency2", "豫西技术经纪公司", OrgKind.TT_AGENCY, "410300", False),
    ("reg1", "郑州市技术合同登记站", OrgKind.REGISTRATION_AGENCY, "410100", False),
    ("reg2", "河南省技术市场服务中心", OrgKind.REGISTRATION_AGENCY, "410105", False),
]
# (key, org key, role)
USERS = [
    ("admin", "agency", Role.ADMIN),
    ("ent", "ent", Role.ENTERPRISE),
    ("ent2", "ent2", Role.ENTERPRISE),
    ("uni", "uni", Role.INSTITUTION),
    ("uni2", "uni2", Role.INSTITUTION),
    ("inst", "inst", Role.INSTITUTION),
    ("b1", "agency", Role.BROKER),
    ("b2", "agency2", Role.BROKER),
    ("reg1", "reg1", Role.REGISTRAR),
    ("reg2", "reg2", Role.REGISTRAR),
]


SEEDED_AT = datetime(2024, 1, 1, tzinfo=UTC)


def make_uscc(serial: int) -> str:
    first17 = f"91410100MA{serial:07d}"
    return first17 + uscc_check_char(first17)


@dataclass
class World:
    engine: Engine
    org: dict[str, int] = field(default_factory=dict)
    actor: dict[str, Actor] = field(default_factory=dict)
    broker: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Row counts of every table a workflow changes (to prove refused operations change nothing)."""
        with Session(self.engine) as s:
            return {
                m.__name__: int(s.exec(select(func.count()).select_from(m)).one())
                for m in (Match, Message, Contract, Payment, Registration, AuditEvent)
            }

    def standalone(
        self, number: str, buyer: str, seller: str, amount: str, signed: date, **extra: object
    ) -> ContractCreate:
        values: dict[str, object] = {
            "contract_number": number,
            "contract_type": "技术转让",
            "title": f"合同{number}",
            "buyer_org_id": self.org[buyer],
            "seller_org_id": self.org[seller],
            "field_code": "F02",
            "contract_amount": Decimal(amount),
            "tech_transaction_amount": Decimal(amount),
            "signed_on": signed,
        }
        values.update(extra)
        return ContractCreate.model_validate(values)


def seed_world(engine: Engine) -> World:
    world = World(engine)
    with Session(engine) as s:
        for serial, (key, name, kind, region, member) in enumerate(ORGS, start=1):
            org = Organization(
                name=name,
                kind=kind,
                uscc=make_uscc(serial),
                region_code=region,
                is_member=member,
                created_at=SEEDED_AT,
            )
            s.add(org)
            s.flush()
            world.org[key] = org.id or 0
        users: dict[str, int] = {}
        for key, org_key, role in USERS:
            user = User(
                username=key,
                display_name=f"用户{key}",
                role=role,
                org_id=world.org[org_key],
                password_hash="x",
            )
            s.add(user)
            s.flush()
            users[key] = user.id or 0
        for key, org_key, fields, regions in (
            ("b1", "agency", ["F02"], ["410100"]),
            ("b2", "agency2", ["F11"], ["410300"]),
        ):
            broker = Broker(
                user_id=users[key],
                org_id=world.org[org_key],
                field_codes=fields,
                region_codes=regions,
                capacity=5,
                created_at=SEEDED_AT,
            )
            s.add(broker)
            s.flush()
            world.broker[key] = broker.id or 0
        s.commit()
    for key, org_key, role in USERS:
        world.actor[key] = Actor(users[key], world.org[org_key], role, world.broker.get(key))
    return world


@pytest.fixture
def world(engine: Engine) -> World:
    return seed_world(engine)


@pytest.fixture
def pg_world(postgres_engine: Engine) -> World:
    return seed_world(postgres_engine)


@pytest.fixture
def index() -> IndexService:
    return IndexService(
        create_encoder(EncoderConfig(name="hashing")), EngineConfig(index_backend="numpy"), None
    )
