"""Makes fresh objects for API tests through the same services the API uses (or plain rows where a
service would need a whole workflow first, e.g. an assigned match)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from models import ContractType, Match, MatchStatus, Role, User, Visibility
from models.schemas import AchievementCreate, ContractCreate, NeedCreate
from services import accounts, contracts, postings
from services.accounts import ApiKeyCreate
from services.actor import Actor
from tests.api.conftest import World, password_hash

_serial = itertools.count(1)


def serial() -> int:
    return next(_serial)


class Factory:
    def __init__(self, world: World) -> None:
        self.w = world

    def actor(self, role: str) -> Actor:
        actor = accounts.actor_for_user(self.w.engine, self.w.user[role])
        assert actor is not None
        return actor

    def need(
        self, *, owner: str = "enterprise", visibility: Visibility = Visibility.PUBLIC, **extra: Any
    ) -> int:
        n = serial()
        data = NeedCreate(
            title=extra.pop("title", f"盾构机刀盘磨损快 {n}"),
            description=extra.pop("description", "盾构施工中刀盘和滚刀磨损严重，换刀频繁，需要高耐磨材料。"),
            field_code=extra.pop("field_code", "F02"),
            visibility=visibility,
            budget_max=extra.pop("budget_max", Decimal("500000.00")),
            **extra,
        )
        return int(postings.create_need(self.w.engine, self.w.index, self.actor(owner), data)["id"])

    def achievement(
        self, *, owner: str = "institution", visibility: Visibility = Visibility.PUBLIC, **extra: Any
    ) -> int:
        n = serial()
        data = AchievementCreate(
            title=extra.pop("title", f"高耐磨硬质合金滚刀材料 {n}"),
            abstract=extra.pop("abstract", "一种用于盾构滚刀的硬质合金材料，耐磨性提高一倍，换刀次数减少。"),
            field_code=extra.pop("field_code", "F02"),
            visibility=visibility,
            asking_price=extra.pop("asking_price", Decimal("300000.00")),
            **extra,
        )
        return int(postings.create_achievement(self.w.engine, self.w.index, self.actor(owner), data)["id"])

    def match(self, status: MatchStatus = MatchStatus.ASSIGNED) -> int:
        """A match between a fresh need of `enterprise` and a fresh achievement of `institution`,
        assigned to the seeded broker."""
        need_id, achievement_id = self.need(), self.achievement()
        with Session(self.w.engine) as s:
            match = Match(
                need_id=need_id,
                achievement_id=achievement_id,
                score=0.5,
                rank=1,
                engine_version="test",
                broker_id=self.w.broker_id,
                status=status,
            )
            s.add(match)
            s.commit()
            return match.id or 0

    def contract(self, amount: str = "100000.00") -> int:
        """A standalone contract between `enterprise` (buyer) and `institution` (seller), by the broker."""
        data = ContractCreate(
            contract_number=f"HT-{serial():06d}",
            contract_type=ContractType.TRANSFER,
            title="硬质合金滚刀材料技术转让",
            buyer_org_id=self.w.org["ent_a"],
            seller_org_id=self.w.org["uni"],
            field_code="F02",
            contract_amount=Decimal(amount),
            tech_transaction_amount=Decimal(amount),
            signed_on=date(2026, 3, 1),
        )
        return int(contracts.create_contract(self.w.engine, self.actor("broker"), data)["id"])

    def api_key(self, role: str = "enterprise") -> tuple[int, str]:
        actor = self.actor(role)
        issued = accounts.create_api_key(
            self.w.engine, actor, actor.org_id or 0, ApiKeyCreate(name=f"k{serial()}")
        )
        return issued.id, issued.key

    def broker_user(self) -> int:
        """A user with role broker and no broker profile yet."""
        with Session(self.w.engine) as s:
            user = User(
                username=f"broker{serial()}",
                display_name="新经纪人",
                role=Role.BROKER,
                org_id=self.w.org["center"],
                password_hash=password_hash(),
            )
            s.add(user)
            s.commit()
            return user.id or 0
