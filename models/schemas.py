"""Input and output schemas. Inputs validate everything a client can get wrong, with clear messages;
checks against the shipped taxonomy (known field and region codes) happen in the service layer."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from models.enums import (
    AchievementKind,
    ContractStatus,
    ContractSubtype,
    ContractType,
    CooperationMode,
    IPType,
    MatchStatus,
    Maturity,
    NeedKind,
    OrgKind,
    PaymentMethod,
    PolicyBase,
    PolicyPer,
    PostingStatus,
    RegistrationConclusion,
    RejectReason,
    Role,
    SceneCategory,
    TargetKind,
    TargetMetric,
    Visibility,
)
from models.validators import (
    validate_field_code_format,
    validate_iso_date_text,
    validate_money,
    validate_money_text,
    validate_one_line,
    validate_plain_text,
    validate_region_code_format,
    validate_title,
    validate_uscc,
)

Money = Annotated[
    Decimal,
    BeforeValidator(validate_money_text),
    Field(ge=0, max_digits=16, decimal_places=2),
    AfterValidator(validate_money),
]
IsoDate = Annotated[
    date, BeforeValidator(validate_iso_date_text), WithJsonSchema({"type": "string", "format": "date"})
]
Title = Annotated[str, Field(max_length=200), AfterValidator(validate_title)]
Body = Annotated[str, Field(min_length=1, max_length=20_000), AfterValidator(validate_plain_text)]
FieldCode = Annotated[str, Field(max_length=16), AfterValidator(validate_field_code_format)]
RegionCode = Annotated[str, Field(max_length=32), AfterValidator(validate_region_code_format)]
Keyword = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(validate_one_line)]
Uscc = Annotated[str, AfterValidator(validate_uscc)]
ExternalId = Annotated[str, Field(min_length=1, max_length=64)]


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganizationCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: OrgKind
    uscc: Uscc
    region_code: RegionCode
    tags: list[Annotated[str, Field(max_length=30)]] = Field(default_factory=list, max_length=20)
    is_member: bool = False
    external_id: ExternalId | None = None


class UserCreate(InputModel):
    username: Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
    display_name: Annotated[str, Field(min_length=1, max_length=100)]
    role: Role
    org_id: int
    password: Annotated[str, Field(min_length=8, max_length=128)]


class BrokerCreate(InputModel):
    user_id: int
    field_codes: list[FieldCode] = Field(default_factory=list, max_length=30)
    region_codes: list[RegionCode] = Field(default_factory=list, max_length=50)
    capacity: Annotated[int, Field(ge=0, le=1000)] = 20


class _PostingCommon(InputModel):
    title: Title
    field_code: FieldCode
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)
    modes: list[CooperationMode] = Field(default_factory=list, max_length=5)
    visibility: Visibility = Visibility.PUBLIC
    external_id: ExternalId | None = None


class NeedCreate(_PostingCommon):
    description: Body
    region_code: RegionCode | None = None
    budget_min: Money | None = None
    budget_max: Money | None = None
    min_maturity: Maturity | None = None
    deadline: date | None = None

    @model_validator(mode="after")
    def _budget_order(self) -> Self:
        if self.budget_min is not None and self.budget_max is not None and self.budget_min > self.budget_max:
            raise ValueError("budget_min must not exceed budget_max")
        return self


class AchievementCreate(_PostingCommon):
    abstract: Body
    region_code: RegionCode | None = None
    maturity: Maturity = Maturity.LABORATORY
    trl: Annotated[int, Field(ge=1, le=9)] | None = None
    ip_type: IPType | None = None
    ip_number: Annotated[str, Field(max_length=64)] | None = None
    asking_price: Money | None = None


class NeedUpdate(InputModel):
    title: Title | None = None
    description: Body | None = None
    field_code: FieldCode | None = None
    keywords: list[Keyword] | None = Field(default=None, max_length=20)
    region_code: RegionCode | None = None
    budget_min: Money | None = None
    budget_max: Money | None = None
    modes: list[CooperationMode] | None = Field(default=None, max_length=5)
    min_maturity: Maturity | None = None
    deadline: date | None = None
    visibility: Visibility | None = None


class AchievementUpdate(InputModel):
    title: Title | None = None
    abstract: Body | None = None
    field_code: FieldCode | None = None
    keywords: list[Keyword] | None = Field(default=None, max_length=20)
    region_code: RegionCode | None = None
    maturity: Maturity | None = None
    trl: Annotated[int, Field(ge=1, le=9)] | None = None
    ip_type: IPType | None = None
    ip_number: Annotated[str, Field(max_length=64)] | None = None
    asking_price: Money | None = None
    modes: list[CooperationMode] | None = Field(default=None, max_length=5)
    visibility: Visibility | None = None


class ReviewDecision(InputModel):
    accept: bool
    reason: RejectReason | None = None
    comment: Annotated[str, Field(max_length=1000)] | None = None
    expected_version: int | None = None

    @model_validator(mode="after")
    def _reason_for_reject(self) -> Self:
        if not self.accept and self.reason is None:
            raise ValueError("a rejection needs a reason code")
        if self.reason == RejectReason.OTHER and not (self.comment or "").strip():
            raise ValueError("reason 'other' needs a comment")
        return self


class MessageCreate(InputModel):
    body: Annotated[str, Field(min_length=1, max_length=5000), AfterValidator(validate_plain_text)]


class ContractCreate(InputModel):
    contract_number: Annotated[str, Field(min_length=1, max_length=64)]
    contract_type: ContractType
    title: Title
    match_id: int | None = None
    buyer_org_id: int | None = None
    seller_org_id: int | None = None
    field_code: FieldCode | None = None
    region_code: RegionCode | None = None
    contract_amount: Money
    tech_transaction_amount: Money
    signed_on: date
    is_open_call: bool = False

    @model_validator(mode="after")
    def _tech_within_contract(self) -> Self:
        if self.tech_transaction_amount > self.contract_amount:
            raise ValueError("tech_transaction_amount must not exceed contract_amount")
        if self.match_id is None and (self.buyer_org_id is None or self.seller_org_id is None):
            raise ValueError("a contract without a match needs buyer_org_id and seller_org_id")
        return self


class PaymentCreate(InputModel):
    amount: Money
    paid_on: date

    @model_validator(mode="after")
    def _positive(self) -> Self:
        if self.amount <= 0:
            raise ValueError("a payment amount must be positive")
        return self


class RegistrationCreate(InputModel):
    """One 认定登记 decision. 登记 needs the registered amount (登记成交额); 技术性收入 defaults to the
    contract's declared technology-transaction amount (capped at the registered amount) and a 登记编号
    is issued when none is given. 不予登记 and 退回补正 need a reason; their amounts are zero."""

    conclusion: RegistrationConclusion = RegistrationConclusion.REGISTERED
    reason: Annotated[str, Field(max_length=500), AfterValidator(validate_plain_text)] | None = None
    registration_number: (
        Annotated[str, Field(min_length=4, max_length=32, pattern=r"^[0-9A-Za-z-]+$")] | None
    ) = None
    registered_amount: Money | None = None
    tech_income: Money | None = None
    registered_on: date
    subtype: ContractSubtype | None = None
    ip_type: IPType | None = None
    ip_number: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    term_start: date | None = None
    term_end: date | None = None
    payment_method: PaymentMethod | None = None
    registrar_org_id: int | None = None

    @model_validator(mode="after")
    def _term(self) -> Self:
        if self.term_start is not None and self.term_end is not None and self.term_start > self.term_end:
            raise ValueError("term_start must not be after term_end")
        return self


class TargetCreate(InputModel):
    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    scope: Annotated[str, Field(pattern=r"^(province|city|county|center|org)$")]
    region_code: RegionCode | None = None
    org_id: int | None = None
    metric: TargetMetric
    kind: TargetKind = TargetKind.ABSOLUTE
    comparator: Annotated[str, Field(pattern=r"^(ge|gt)$")] = "ge"
    period_start: date
    period_end: date
    value: Money | None = None
    factor: Annotated[Decimal, Field(gt=0, le=1000, max_digits=12, decimal_places=8)] | None = None
    baseline_year: Annotated[int, Field(ge=1990, le=2100)] | None = None
    reference_region_code: RegionCode | None = None
    baseline: Money | None = None
    source: Annotated[str, Field(max_length=200)] = ""

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.period_start > self.period_end:
            raise ValueError("period_start must not be after period_end")
        return self


class PolicyRuleCreate(InputModel):
    code: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    rate: Annotated[Decimal, Field(ge=0, le=1, max_digits=12, decimal_places=8)]
    base: PolicyBase
    cap: Money | None = None
    per: PolicyPer
    period: Annotated[str, Field(pattern=r"^(project|year)$")]
    region_code: RegionCode | None = None
    source: Annotated[str, Field(max_length=200)] = ""


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class NeedRead(ReadModel):
    id: int
    external_id: str | None
    org_id: int | None
    kind: NeedKind
    category: SceneCategory | None
    title: str
    description: str | None
    field_code: str
    keywords: list[str]
    region_code: str
    budget_min: Decimal | None
    budget_max: Decimal | None
    modes: list[str]
    min_maturity: Maturity | None
    deadline: date | None
    visibility: Visibility
    status: PostingStatus
    duplicate_flags: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class AchievementRead(ReadModel):
    id: int
    external_id: str | None
    org_id: int | None
    kind: AchievementKind
    category: SceneCategory | None
    title: str
    abstract: str | None
    field_code: str
    keywords: list[str]
    region_code: str
    maturity: Maturity
    trl: int | None
    ip_type: IPType | None
    ip_number: str | None
    asking_price: Decimal | None
    modes: list[str]
    visibility: Visibility
    status: PostingStatus
    duplicate_flags: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class MatchRead(ReadModel):
    id: int
    need_id: int
    achievement_id: int
    score: float
    rank: int
    components: dict[str, float]
    explanation: dict[str, Any]
    engine_version: str
    broker_id: int | None
    status: MatchStatus
    reject_reason: RejectReason | None
    decision_comment: str | None
    decided_at: datetime | None
    version: int


class ContractRead(ReadModel):
    id: int
    contract_number: str
    contract_type: ContractType
    title: str
    match_id: int | None
    buyer_org_id: int
    seller_org_id: int
    broker_id: int | None
    field_code: str
    region_code: str
    sub_center_code: str | None
    contract_amount: Decimal
    tech_transaction_amount: Decimal
    signed_on: date
    is_open_call: bool
    status: ContractStatus
