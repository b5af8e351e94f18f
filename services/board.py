"""The trading-hall board (技术交易大厅): the latest deals, published as they happen.

Confidential parties are masked: a party whose posting on the match was confidential shows as
某企业 (an enterprise) or 某单位 (any other kind of organisation).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import Achievement, Contract, ContractStatus, Match, Need, Organization, OrgKind, Visibility
from services.stats import field_label, region_label

__all__ = ["party_label", "recent_contracts"]


def party_label(org: Organization, confidential: bool) -> str:
    """A party's public name: masked as 某企业 / 某单位 when its posting was confidential."""
    if not confidential:
        return org.name
    return "某企业" if org.kind == OrgKind.ENTERPRISE else "某单位"


def recent_contracts(db: Engine, limit: int = 20) -> list[dict[str, Any]]:
    """The trading-hall board (技术交易大厅): latest non-cancelled deals, confidential parties masked."""
    with Session(db) as session:
        rows = session.exec(
            select(Contract)
            .where(Contract.status != ContractStatus.CANCELLED)
            .order_by(col(Contract.signed_on).desc(), col(Contract.id).desc())
            .limit(min(max(limit, 1), 200))
        ).all()
        return [_board_row(session, c) for c in rows]


def _board_row(session: Session, contract: Contract) -> dict[str, Any]:
    buyer_secret = seller_secret = False
    if contract.match_id is not None:
        match = session.get(Match, contract.match_id)
        need = session.get(Need, match.need_id) if match else None
        achievement = session.get(Achievement, match.achievement_id) if match else None
        buyer_secret = need is not None and need.visibility == Visibility.CONFIDENTIAL
        seller_secret = achievement is not None and achievement.visibility == Visibility.CONFIDENTIAL
    buyer = session.get(Organization, contract.buyer_org_id)
    seller = session.get(Organization, contract.seller_org_id)
    assert buyer is not None and seller is not None  # foreign keys
    return {
        "id": contract.id,
        "title": contract.title,
        "contract_type": contract.contract_type.value,
        "field_code": contract.field_code,
        "field_name": field_label(contract.field_code),
        "region_code": contract.region_code,
        "region_name": region_label(contract.region_code),
        "buyer": party_label(buyer, buyer_secret),
        "seller": party_label(seller, seller_secret),
        "contract_amount": contract.contract_amount,
        "signed_on": contract.signed_on,
        "registered": contract.status == ContractStatus.REGISTERED,
    }
