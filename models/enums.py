"""Domain vocabularies. Member names are English; values are what users read and send (Chinese where
the domain speaks Chinese, e.g. contract types), so exports and the API speak the user's language."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    ENTERPRISE = "enterprise"
    UNIVERSITY = "university"
    INSTITUTE = "institute"
    NEW_RD_INSTITUTION = "new_rd_institution"
    TT_AGENCY = "tt_agency"
    REGISTRATION_AGENCY = "registration_agency"
    SUB_CENTER = "sub_center"


class Role(StrEnum):
    ENTERPRISE = "enterprise"
    INSTITUTION = "institution"
    BROKER = "broker"
    REGISTRAR = "registrar"
    ADMIN = "admin"


class Visibility(StrEnum):
    PUBLIC = "public"
    CONFIDENTIAL = "confidential"


class PostingStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    MATCHED = "matched"
    CLOSED = "closed"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class CooperationMode(StrEnum):
    TRANSFER = "转让"
    LICENSE = "许可"
    EQUITY = "作价入股"
    JOINT_DEVELOPMENT = "合作开发"
    TECHNICAL_SERVICE = "技术服务"


class Maturity(StrEnum):
    """Maturity stages in the order a technology passes them (see `MATURITY_RANK`)."""

    LABORATORY = "实验室"
    SMALL_PILOT = "小试"
    PILOT = "中试"
    INDUSTRIAL = "产业化"


MATURITY_RANK: dict[Maturity, int] = {m: i for i, m in enumerate(Maturity, start=1)}


class IPType(StrEnum):
    INVENTION_PATENT = "发明专利"
    UTILITY_MODEL = "实用新型"
    SOFTWARE_COPYRIGHT = "软件著作权"
    TRADE_SECRET = "技术秘密"


class MatchStatus(StrEnum):
    SUGGESTED = "suggested"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    NEGOTIATING = "negotiating"
    CONTRACTED = "contracted"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class RejectReason(StrEnum):
    BUDGET = "budget"
    MATURITY = "maturity"
    IP_STATUS = "ip_status"
    REGION = "region"
    DUPLICATE = "duplicate"
    VAGUE_NEED = "vague_need"
    NOT_RELEVANT = "not_relevant"
    OTHER = "other"


class ContractType(StrEnum):
    DEVELOPMENT = "技术开发"
    TRANSFER = "技术转让"
    LICENSE = "技术许可"
    CONSULTING = "技术咨询"
    SERVICE = "技术服务"


class ContractStatus(StrEnum):
    SIGNED = "signed"
    REGISTERED = "registered"
    CANCELLED = "cancelled"


class TargetMetric(StrEnum):
    CONTRACT_TURNOVER = "contract_turnover"
    TECHNOLOGY_TRANSACTION_AMOUNT = "technology_transaction_amount"
    REGISTERED_TURNOVER = "registered_turnover"
    CONTRACTS = "contracts"
    BROKERS = "brokers"
    MEMBER_UNITS = "member_units"
    ACHIEVEMENTS_TRANSFERRED = "achievements_transferred"
    TT_INSTITUTIONS = "tt_institutions"
    ACHIEVEMENTS_MATCHED = "achievements_matched"
    TT_INSTITUTIONS_INTRODUCED = "tt_institutions_introduced"
    RD_INSTITUTIONS_INTRODUCED = "rd_institutions_introduced"
    SUB_CENTERS = "sub_centers"


MONEY_METRICS = frozenset(
    {
        TargetMetric.CONTRACT_TURNOVER,
        TargetMetric.TECHNOLOGY_TRANSACTION_AMOUNT,
        TargetMetric.REGISTERED_TURNOVER,
    }
)


class PolicyBase(StrEnum):
    """What a subsidy rule is a percentage of."""

    ACTUAL_PAYMENTS = "actual_payments"
    PRIOR_YEAR_CONTRACT_TURNOVER = "prior_year_contract_turnover"
    REGISTERED_TURNOVER = "registered_turnover"
    ACTUAL_INVESTMENT = "actual_investment"


class PolicyPer(StrEnum):
    PROJECT = "project"
    UNIT = "unit"
    REGISTRAR = "registrar"
