"""Domain model: SQLModel tables, enums, allowed transitions and value checks. Imports nothing of ours."""

from models.enums import (
    MATURITY_RANK,
    ContractStatus,
    ContractType,
    CooperationMode,
    IPType,
    MatchStatus,
    Maturity,
    OrgKind,
    PolicyBase,
    PolicyPer,
    PostingStatus,
    RejectReason,
    Role,
    TargetMetric,
    Visibility,
)
from models.ledger import AuditEvent, Contract, ImportRecord, Payment, PolicyRule, Registration, Target
from models.parties import ApiKey, Broker, Organization, User
from models.postings import Achievement, EmbeddingCache, Match, Message, Need
from models.transitions import InvalidTransitionError, check_transition

__all__ = [
    "MATURITY_RANK",
    "Achievement",
    "ApiKey",
    "AuditEvent",
    "Broker",
    "Contract",
    "ContractStatus",
    "ContractType",
    "CooperationMode",
    "EmbeddingCache",
    "IPType",
    "ImportRecord",
    "InvalidTransitionError",
    "Match",
    "MatchStatus",
    "Maturity",
    "Message",
    "Need",
    "OrgKind",
    "Organization",
    "Payment",
    "PolicyBase",
    "PolicyPer",
    "PolicyRule",
    "PostingStatus",
    "Registration",
    "RejectReason",
    "Role",
    "Target",
    "TargetMetric",
    "User",
    "Visibility",
    "check_transition",
]
