"""Unified social credit codes (统一社会信用代码, GB 32100-2015) for the demo organisations.

A code is 18 characters from a 31-letter alphabet (no I, O, S, V, Z):

* 1: registration department (1 机构编制, 5 民政, 9 工商 …);
* 2: organisation type within it (``91`` enterprise, ``12`` public institution, ``52`` private non-profit);
* 3-8: GB/T 2260 administrative code of the registering authority;
* 9-17: the organisation code (组织机构代码, GB 11714), whose 9th character is its own check digit;
* 18: the check character over the first 17 (weights ``3^i mod 31``).

Demo codes are synthetic: both check characters are valid, but they are not the real codes of the
organisations named in the demo corpus.
"""

from __future__ import annotations

import random
import re

from models import validators

__all__ = [
    "USCC_ALPHABET",
    "is_valid_org_code",
    "is_valid_uscc",
    "make_uscc",
    "org_code_check_char",
    "uscc_check_char",
]

USCC_ALPHABET = validators.USCC_ALPHABET
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_PATTERN = re.compile(r"[0-9A-Z]{8}[0-9X]")


def uscc_check_char(first17: str) -> str:
    """The 18th character of a code, computed from its first 17 characters (see `models.validators`).

    Raises:
        ValueError: when ``first17`` is not 17 characters of the code alphabet.
    """
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        raise ValueError(f"expected 17 characters of the USCC alphabet, got {first17!r}")
    return validators.uscc_check_char(first17)


def is_valid_uscc(code: str) -> bool:
    """True when the code has the GB 32100 shape and its 18th character checks out."""
    if not isinstance(code, str):
        return False
    try:
        return validators.validate_uscc(code) == code
    except ValueError:
        return False


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def org_code_check_char(first8: str) -> str:
    """Check character of a GB 11714 organisation code (positions 9-17 of a USCC)."""
    if not re.fullmatch(r"[0-9A-Z]{8}", first8):
        raise ValueError(f"expected 8 upper-case letters or digits, got {first8!r}")
    remainder = 11 - sum(_org_value(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def is_valid_org_code(code: str) -> bool:
    """True when a 9-character organisation code carries a correct check character."""
    if not _ORG_PATTERN.fullmatch(code):
        return False
    return code[8] == org_code_check_char(code[:8])


def make_uscc(prefix: str, admin_code: str, rng: random.Random) -> str:
    """A synthetic code with valid organisation-code and USCC check characters.

    Args:
        prefix: department and type characters, e.g. ``"91"`` for an enterprise.
        admin_code: six-digit GB/T 2260 code of the registering authority.
        rng: the caller's seeded generator.
    """
    if len(prefix) != 2 or not re.fullmatch(r"\d{6}", admin_code):
        raise ValueError("prefix must be 2 characters and admin_code 6 digits")
    if prefix == "91" and rng.random() < 0.6:  # codes issued since 2015 often start with "MA"
        body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = prefix + admin_code + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)
