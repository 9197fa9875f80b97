"""Output hygiene for packs: PII masking and spreadsheet formula-injection neutralising.

HTML/PDF escaping is not here: the Jinja environment autoescapes every value (see render.py).
"""

from __future__ import annotations

import re
from typing import Any

# Loose on purpose: anything that looks like an address or a phone number in free text (exception
# details, company names) is masked too, not only the email/phone columns.
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# A phone: a leading "+" or "(", or digit groups split by separators; at least 7 digits. ISO dates
# (2026-11-02) and record ids (one unbroken run of letters and digits) are not phones.
PHONE = re.compile(
    r"(?<![\w+])(\+\d[\d ()./-]{5,}\d|\(?\d{2,4}\)?[ ./-]\d{2,4}[ ./-]\d{2,5}(?:[ ./-]\d{1,5})?)(?![\w])"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A spreadsheet treats a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def mask_email(text: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com`` (the domain stays: it says which company)."""
    return EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


def mask_phone(text: str) -> str:
    """``+1 415 555 0100`` -> ``***00`` (the last two digits stay, to tell numbers apart)."""

    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(1))
        if len(digits) < 7 or _ISO_DATE.match(m.group(1)):
            return m.group(1)
        return f"***{digits[-2:]}"

    return PHONE.sub(repl, text)


def mask_pii(value: Any, *, allow_emails: bool = False, allow_phones: bool = False) -> Any:
    """Mask emails and phone numbers inside a string value; other types pass through."""
    if not isinstance(value, str):
        return value
    out = value if allow_emails else mask_email(value)
    return out if allow_phones else mask_phone(out)


def neutralise_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe.

    Numbers stay numbers (a negative amount is not an injection); only strings are touched.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
