"""Value checks shared by the schemas. Each raises `ValueError` with a message a user can act on."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# GB 32100-2015: 18 characters from this alphabet (no I, O, S, V, Z); the 18th is a checksum.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
MONEY_MAX = Decimal("99999999999999.99")
FIELD_CODE_PATTERN = re.compile(r"^F\d{2}(\.\d{2})?$|^X$")
REGION_CODE_PATTERN = re.compile(r"^\d{6}(P\d{2})?$")
_TAG_PATTERN = re.compile(r"<\s*/?\s*[a-zA-Z!]")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# one-line names (titles, keywords): no line breaks, no bidirectional controls (U+202E makes a title
# read backwards, hiding what it says), no zero-width or other invisible format characters
_LINE_BREAKS = re.compile(r"[\r\n\x85\u2028\u2029]")
_INVISIBLE = re.compile(r"[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ISO_DATE = re.compile(ISO_DATE_PATTERN)
# the form of an amount sent as text; sign, size and decimals get their own, clearer errors afterwards
_MONEY_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code, computed from the first 17."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return the normalised (upper-case) code or raise with the reason."""
    normalised = code.strip().upper()
    if len(normalised) != 18:
        raise ValueError(f"unified social credit code must have 18 characters, got {len(normalised)}")
    if not _USCC_PATTERN.match(normalised):
        raise ValueError("unified social credit code has characters outside GB 32100-2015's alphabet")
    expected = uscc_check_char(normalised[:17])
    if normalised[17] != expected:
        raise ValueError(f"unified social credit code checksum fails: last character should be {expected!r}")
    return normalised


def validate_money(value: Decimal | int | str, *, name: str = "amount") -> Decimal:
    """A yuan amount: finite, ≥ 0, at most 2 decimal places, below 10^14."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{name} is not a number: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"{name} must be a finite number")
    if amount < 0:
        raise ValueError(f"{name} must not be negative")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{name} has more than 2 decimal places (fen is the smallest unit)")
    if amount > MONEY_MAX:
        raise ValueError(f"{name} is too large")
    return amount.quantize(Decimal("0.01"))


def validate_plain_text(value: str) -> str:
    """No control characters (PostgreSQL refuses NUL; Excel and terminals choke on the rest)."""
    if _CONTROL_CHARACTERS.search(value):
        raise ValueError("text must not contain control characters")
    return value


def validate_money_text(value: object) -> object:
    """Money sent as text is written in ASCII digits ("１００", "1e3" and "+5" are refused
    before `Decimal` would read them); numbers go on to `validate_money`."""
    if isinstance(value, str) and not _MONEY_TEXT.match(value):
        raise ValueError(f"amount {value!r} is not a yuan amount like 1234.56 (ASCII digits)")
    return value


def validate_iso_date_text(value: object) -> object:
    """A date is sent as YYYY-MM-DD; pydantic alone would also read ``0`` or ``1700000000`` as one."""
    if isinstance(value, str | int | float) and not (isinstance(value, str) and _ISO_DATE.match(value)):
        raise ValueError(f"date {value!r} is not of the form YYYY-MM-DD")
    return value


def validate_one_line(value: str) -> str:
    """A name shown on one line: plain text without line breaks, bidi controls or invisible characters."""
    validate_plain_text(value)
    if _LINE_BREAKS.search(value):
        raise ValueError("text must be on one line")
    if _INVISIBLE.search(value):
        raise ValueError("text must not contain invisible or text-direction control characters")
    return value


def validate_title(value: str, *, max_length: int = 200) -> str:
    """Non-empty after trimming, within the length limit, one line of visible text."""
    title = validate_one_line(value).strip()
    if not title:
        raise ValueError("title must not be empty")
    if len(title) > max_length:
        raise ValueError(f"title is longer than {max_length} characters")
    return title


def validate_field_code_format(code: str) -> str:
    if not FIELD_CODE_PATTERN.match(code):
        raise ValueError(f"field code {code!r} is not of the form F01 or F01.02")
    return code


def validate_region_code_format(code: str) -> str:
    if not REGION_CODE_PATTERN.match(code):
        raise ValueError(
            f"region code {code!r} is not a 6-digit administrative code (parks: 6 digits + P + 2 digits)"
        )
    return code


def looks_like_markup(text: str) -> bool:
    """True when text contains an HTML tag opener; such text is stored but always rendered escaped."""
    return bool(_TAG_PATTERN.search(text))
