"""Every validator: a good value passes, a bad value fails with a message a user can act on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from models.enums import MatchStatus
from models.schemas import (
    AchievementCreate,
    ContractCreate,
    NeedCreate,
    OrganizationCreate,
    PaymentCreate,
    PolicyRuleCreate,
    ReviewDecision,
    TargetCreate,
)
from models.transitions import MATCH_TRANSITIONS, InvalidTransitionError, check_transition
from models.validators import uscc_check_char, validate_money, validate_uscc

# Real, publicly printed codes (checked by the algorithm itself below): a company and an institution.
GOOD_USCC = ["91350100M000100Y43", "12100000400010398P"]


@pytest.mark.parametrize("code", GOOD_USCC)
def test_uscc_good(code: str) -> None:
    assert validate_uscc(code.lower()) == code


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y4I", "alphabet"),
        ("91350100M000100Y44", "checksum"),
    ],
)
def test_uscc_bad(code: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_uscc(code)


def test_uscc_check_char_matches_known_codes() -> None:
    for code in GOOD_USCC:
        assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("value", "expected"), [("0", Decimal("0.00")), ("12.5", Decimal("12.50")), (3, Decimal("3.00"))]
)
def test_money_good(value: str | int, expected: Decimal) -> None:
    assert validate_money(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [("-1", "negative"), ("1.234", "2 decimal"), ("abc", "not a number"), ("NaN", "finite")],
)
def test_money_bad(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_money(value)


NEED = {"title": "盾构机刀盘磨损快", "description": "换刀频繁，需要耐磨材料。", "field_code": "F02"}


def test_need_good() -> None:
    need = NeedCreate(**NEED, budget_min="100000", budget_max="500000.50", modes=["转让", "合作开发"])
    assert need.budget_max == Decimal("500000.50")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "   "}, "title must not be empty"),
        ({"title": "长" * 201}, "at most 200"),
        ({"budget_min": "5", "budget_max": "1"}, "budget_min must not exceed budget_max"),
        ({"budget_min": "-1"}, "greater than or equal to 0"),
        ({"budget_max": "1.001"}, "decimal places"),
        ({"field_code": "电子"}, "field code"),
        ({"region_code": "Henan"}, "region code"),
        ({"modes": ["抢购"]}, "Input should be"),
        ({"description": ""}, "at least 1 character"),
        ({"unknown": 1}, "Extra inputs"),
    ],
)
def test_need_bad(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        NeedCreate(**{**NEED, **changes})


def test_achievement_trl_bounds() -> None:
    base = {"title": "高耐磨滚刀", "abstract": "硬质合金。", "field_code": "F03"}
    assert AchievementCreate(**base, trl=9).trl == 9
    with pytest.raises(ValidationError, match="less than or equal to 9"):
        AchievementCreate(**base, trl=10)


def test_organization_uscc_in_schema() -> None:
    org = {"name": "郑州某科技有限公司", "kind": "enterprise", "region_code": "410100"}
    assert OrganizationCreate(**org, uscc=GOOD_USCC[0]).uscc == GOOD_USCC[0]
    with pytest.raises(ValidationError, match="checksum"):
        OrganizationCreate(**org, uscc="91350100M000100Y44")


def test_contract_amounts() -> None:
    base = {
        "contract_number": "2025-1",
        "contract_type": "技术转让",
        "title": "滚刀材料转让",
        "match_id": 1,
        "signed_on": date(2025, 3, 1),
    }
    assert ContractCreate(
        **base, contract_amount="100", tech_transaction_amount="80"
    ).contract_amount == Decimal("100.00")
    with pytest.raises(ValidationError, match="must not exceed contract_amount"):
        ContractCreate(**base, contract_amount="100", tech_transaction_amount="100.01")
    with pytest.raises(ValidationError, match="buyer_org_id"):
        ContractCreate(**{**base, "match_id": None}, contract_amount="1", tech_transaction_amount="1")


def test_payment_positive() -> None:
    assert PaymentCreate(amount="0.01", paid_on=date(2025, 1, 1)).amount == Decimal("0.01")
    with pytest.raises(ValidationError, match="positive"):
        PaymentCreate(amount="0", paid_on=date(2025, 1, 1))


def test_review_needs_reason() -> None:
    assert ReviewDecision(accept=True).accept
    with pytest.raises(ValidationError, match="needs a reason"):
        ReviewDecision(accept=False)
    with pytest.raises(ValidationError, match="needs a comment"):
        ReviewDecision(accept=False, reason="other")


def test_target_period_and_rule_rate() -> None:
    target = {
        "code": "zz-2024",
        "name": "郑州技术合同成交额",
        "scope": "city",
        "metric": "contract_turnover",
        "value": "80000000000",
    }
    assert TargetCreate(
        **target, period_start=date(2024, 1, 1), period_end=date(2024, 12, 31)
    ).value == Decimal("80000000000.00")
    with pytest.raises(ValidationError, match="period_start"):
        TargetCreate(**target, period_start=date(2025, 1, 1), period_end=date(2024, 12, 31))
    rule = {
        "code": "M1",
        "name": "揭榜挂帅",
        "base": "actual_payments",
        "per": "project",
        "period": "project",
    }
    assert PolicyRuleCreate(**rule, rate="0.30").rate == Decimal("0.30")
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        PolicyRuleCreate(**rule, rate="1.5")


def test_transitions_are_enforced() -> None:
    check_transition("match", MATCH_TRANSITIONS, MatchStatus.ASSIGNED, MatchStatus.ACCEPTED)
    with pytest.raises(InvalidTransitionError, match="cannot go from 'rejected' to 'contracted'"):
        check_transition("match", MATCH_TRANSITIONS, MatchStatus.REJECTED, MatchStatus.CONTRACTED)
