"""What 技术合同认定登记 allows, as data: the subtypes of each contract type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from models.enums import ContractStatus, ContractSubtype, ContractType, RegistrationConclusion

S = ContractSubtype
SUBTYPES: Final[Mapping[ContractType, tuple[ContractSubtype, ...]]] = {
    ContractType.DEVELOPMENT: (S.COMMISSIONED_DEVELOPMENT, S.COOPERATIVE_DEVELOPMENT),
    ContractType.TRANSFER: (
        S.PATENT_TRANSFER,
        S.PATENT_APPLICATION_TRANSFER,
        S.KNOW_HOW_TRANSFER,
        S.OTHER_TRANSFER,
    ),
    ContractType.LICENSE: (S.PATENT_LICENSE, S.KNOW_HOW_LICENSE, S.OTHER_LICENSE),
    ContractType.CONSULTING: (S.CONSULTING,),
    ContractType.SERVICE: (S.SERVICE, S.TRAINING, S.INTERMEDIARY),
}
"""A contract of each type is registered as one of these subtypes (民法典 第三编 第二十章; 技术合同认定规则)."""


def subtype_fits(contract_type: ContractType, subtype: ContractSubtype) -> bool:
    return subtype in SUBTYPES[contract_type]


CONCLUSION_STATUS: Final[Mapping[RegistrationConclusion, ContractStatus]] = {
    RegistrationConclusion.REGISTERED: ContractStatus.REGISTERED,
    RegistrationConclusion.NOT_REGISTERED: ContractStatus.NOT_REGISTERED,
    RegistrationConclusion.RETURNED: ContractStatus.SIGNED,
}
"""The contract's status after each 认定结论: 退回补正 leaves it signed, waiting to be submitted again."""

FINAL_CONCLUSIONS: Final = frozenset(
    {RegistrationConclusion.REGISTERED, RegistrationConclusion.NOT_REGISTERED}
)
"""Conclusions that close the registration: a later attempt is refused as ``already_registered``."""
