"""Input schemas of 揭榜挂帅 calls and 场景 scenes. A call's text, field and region live in the posting
it wraps (a `NeedCreate`, or an `AchievementCreate` for 揭榜转化); these add what a call adds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Self

from pydantic import AfterValidator, AwareDatetime, Field, model_validator

from models.enums import CallForm, OrgKind, SceneCategory
from models.schemas import AchievementCreate, Body, InputModel, Money, NeedCreate, RegionCode, Title
from models.validators import validate_plain_text

Text100 = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(validate_plain_text)]
Text500 = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(validate_plain_text)]
Text1000 = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(validate_plain_text)]
Share = Annotated[Decimal, Field(gt=0, le=1, max_digits=6, decimal_places=4)]
Months = Annotated[int, Field(ge=1, le=120)]
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Indicator(InputModel):
    """A measurable technical indicator (技术指标), e.g. 识别准确率 ≥ 95 %."""

    name: Text100
    target: Text100
    unit: Annotated[str, Field(max_length=20)] = ""


class MilestoneIn(InputModel):
    deliverable: Text500
    acceptance_criterion: Text1000
    payment_share: Share
    due_months: Months


class Eligibility(InputModel):
    """Who may apply: organisation kinds (empty = the form's default), the region the lead unit must
    lie in (None = inside or outside the province), whether consortia are accepted."""

    org_kinds: list[OrgKind] = Field(default_factory=list, max_length=7)
    region_scope: RegionCode | None = None
    consortium: bool = True


def _check_milestones(milestones: list[MilestoneIn] | None) -> None:
    if milestones is None:
        return
    if sum(m.payment_share for m in milestones) != Decimal(1):
        raise ValueError("the milestones' payment shares must add up to 1")
    if [m.due_months for m in milestones] != sorted(m.due_months for m in milestones):
        raise ValueError("milestones must be listed in the order they fall due")


class CallCreate(InputModel):
    """A new call: an existing posting of the owner (``need_id`` / ``achievement_id``) or a new one."""

    form: CallForm
    need_id: DbId | None = None
    achievement_id: DbId | None = None
    need: NeedCreate | None = None
    achievement: AchievementCreate | None = None
    indicators: list[Indicator] = Field(min_length=1, max_length=20)
    budget: Money
    application_deadline: AwareDatetime
    delivery_months: Months
    max_teams: Annotated[int, Field(ge=1, le=10)] = 1
    eligibility: Eligibility = Field(default_factory=Eligibility)
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=12)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        reverse = self.form == CallForm.CONVERSION
        given = [
            n for n in ("need_id", "achievement_id", "need", "achievement") if getattr(self, n) is not None
        ]
        allowed = {"achievement_id", "achievement"} if reverse else {"need_id", "need"}
        if len(given) != 1 or given[0] not in allowed:
            what = "an achievement (achievement_id or achievement)" if reverse else "a need (need_id or need)"
            raise ValueError(f"a {self.form.value} call wraps exactly one {what}")
        if self.budget <= 0:
            raise ValueError("budget must be positive")
        if self.max_teams > 1 and self.form != CallForm.HORSE_RACE:
            raise ValueError("only a 赛马制 call funds more than one team")
        _check_milestones(self.milestones)
        return self


class CallUpdate(InputModel):
    """Changes to a draft call."""

    indicators: list[Indicator] | None = Field(default=None, min_length=1, max_length=20)
    budget: Money | None = None
    application_deadline: AwareDatetime | None = None
    delivery_months: Months | None = None
    max_teams: Annotated[int, Field(ge=1, le=10)] | None = None
    eligibility: Eligibility | None = None
    milestones: list[MilestoneIn] | None = Field(default=None, min_length=1, max_length=12)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.budget is not None and self.budget <= 0:
            raise ValueError("budget must be positive")
        _check_milestones(self.milestones)
        return self


class TeamMember(InputModel):
    name: Text100
    title: Annotated[str, Field(max_length=100)] = ""
    role: Annotated[str, Field(max_length=100)] = ""


class ApplicationCreate(InputModel):
    """A 揭榜申请: proposal, team, price and schedule; ``member_org_ids`` makes it a consortium led by the
    applicant."""

    proposal: Body
    team: list[TeamMember] = Field(min_length=1, max_length=50)
    price: Money
    schedule: Body
    member_org_ids: list[DbId] = Field(default_factory=list, max_length=20)


class AwardRequest(InputModel):
    application_ids: list[DbId] = Field(min_length=1, max_length=10)
    signed_on: date

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if len(set(self.application_ids)) != len(self.application_ids):
            raise ValueError("application_ids must be distinct")
        return self


class MilestoneVerdict(InputModel):
    """The owner's verdict on a milestone of one team; a pass records the payment (default: the
    milestone's share of the contract amount)."""

    application_id: DbId | None = None
    passed: bool = True
    amount: Money | None = None
    paid_on: date
    note: Annotated[str, Field(max_length=1000)] = ""


class InvitationCreate(InputModel):
    org_id: DbId
    message: Annotated[str, Field(max_length=1000)] = ""


class SceneCreate(NeedCreate):
    """A scene need (场景需求): a need of kind 场景 in one of the documents' categories."""

    category: SceneCategory


class SolutionCreate(AchievementCreate):
    """A scene solution (场景方案): an achievement of kind 方案; its category defaults to the scene's."""

    category: SceneCategory | None = None


class PilotCreate(InputModel):
    """A pilot agreement on a scene, with the owner's actual investment (base of the scene subsidy)."""

    provider_org_id: DbId
    solution_id: DbId | None = None
    title: Title
    investment: Money
    signed_on: date

    @model_validator(mode="after")
    def _positive(self) -> Self:
        if self.investment <= 0:
            raise ValueError("investment must be positive")
        return self
