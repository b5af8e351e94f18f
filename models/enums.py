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
    CONTRACTED = "contracted"  # set by the ledger only: a live contract was signed on it
    CLOSED = "closed"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class NeedKind(StrEnum):
    """What a need is: an ordinary technology need, or an application scene (场景需求) opened to new
    technology. Both are matched by the same engine."""

    TECHNOLOGY = "技术需求"
    SCENE = "场景"


class AchievementKind(StrEnum):
    """What an achievement is: a technology achievement, or a solution offered for scenes (场景方案)."""

    TECHNOLOGY = "科技成果"
    SOLUTION = "方案"


class SceneCategory(StrEnum):
    """Scene categories the policy documents name (F11)."""

    LOGISTICS = "智能物流"
    MANUFACTURING = "智能制造"
    AGRICULTURE = "智慧农业"
    TRANSPORT = "智能交通"
    CITY = "智慧城市"
    HEALTHCARE = "智慧医疗"
    LOW_CARBON = "绿色低碳"
    QUANTUM = "量子科技"
    OTHER = "其他"


class CallForm(StrEnum):
    """The three forms of a 揭榜挂帅 open call (F10)."""

    CHALLENGE = "揭榜攻关"  # also called 揭榜竞标: one winner solves the owner's problem
    HORSE_RACE = "赛马制"  # several teams funded in parallel up to a milestone
    CONVERSION = "揭榜转化"  # a mature achievement published for local enterprises to take up


class CallStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    UNDER_REVIEW = "under_review"
    AWARDED = "awarded"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    AWARDED = "awarded"
    NOT_AWARDED = "not_awarded"
    ELIMINATED = "eliminated"  # 赛马制: failed a milestone and stops


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
    NOT_REGISTERED = "not_registered"  # 认定结论 不予登记
    CANCELLED = "cancelled"


class RegistrationConclusion(StrEnum):
    """认定结论 of 技术合同认定登记."""

    REGISTERED = "登记"
    NOT_REGISTERED = "不予登记"
    RETURNED = "退回补正"  # the parties correct the contract and submit it again


class ContractSubtype(StrEnum):
    """The registration's finer contract category (see `models.registration.SUBTYPES`)."""

    COMMISSIONED_DEVELOPMENT = "委托开发"
    COOPERATIVE_DEVELOPMENT = "合作开发"
    PATENT_TRANSFER = "专利权转让"
    PATENT_APPLICATION_TRANSFER = "专利申请权转让"
    KNOW_HOW_TRANSFER = "技术秘密转让"
    OTHER_TRANSFER = "其他技术转让"
    PATENT_LICENSE = "专利实施许可"
    KNOW_HOW_LICENSE = "技术秘密许可"
    OTHER_LICENSE = "其他技术许可"
    CONSULTING = "技术咨询"
    SERVICE = "技术服务"
    TRAINING = "技术培训"
    INTERMEDIARY = "技术中介"


class PaymentMethod(StrEnum):
    """支付方式 as technology-contract registration records it."""

    LUMP_SUM = "一次总付"
    INSTALMENTS = "分期支付"
    ROYALTIES = "提成支付"
    ROYALTIES_WITH_ENTRY_FEE = "提成支付附加预付入门费"
    OTHER = "其他"


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
    INFLUENTIAL_ACHIEVEMENTS = "influential_achievements"


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


class TargetKind(StrEnum):
    """How a target's goal is stated: a fixed amount, a multiple of a baseline year's value (翻一番), or
    growth faster than another region's growth (高于全省平均水平)."""

    ABSOLUTE = "absolute"
    BASELINE_MULTIPLE = "baseline_multiple"
    RELATIVE_GROWTH = "relative_growth"


class CertificationLevel(StrEnum):
    JUNIOR = "初级"
    INTERMEDIATE = "中级"
    SENIOR = "高级"


class BrokerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"


class MembershipStatus(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"


class MemberTier(StrEnum):
    MEMBER = "会员单位"
    COUNCIL = "理事单位"
    STANDING_COUNCIL = "常务理事单位"


class InstitutionKind(StrEnum):
    """The kinds of 技术转移机构 the province names [000:L733], plus R&D bodies introduced from outside."""

    INTEGRATION = "技术集成与经营"
    BROKERAGE = "技术经纪"
    FINANCING = "技术投融资服务"
    REGIONAL = "区域综合性"
    SECTORAL = "行业专业性"
    UNIVERSITY_OFFICE = "高校技术转移机构"
    RD_INSTITUTION = "研发机构"


class InstitutionOrigin(StrEnum):
    INTRODUCED = "introduced"
    CULTIVATED = "cultivated"


class Recognition(StrEnum):
    NONE = "无"
    PROVINCIAL = "省级示范机构"
    NATIONAL = "国家级示范机构"
