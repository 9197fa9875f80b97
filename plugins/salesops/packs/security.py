"""Output hygiene for every output (packs, Data Docs, exports): PII masking and spreadsheet
formula-injection neutralising.

HTML/PDF escaping is not here: the Jinja environment autoescapes every value (see render.py).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

# Loose on purpose: anything that looks like an address or a phone number in free text (exception
# details, company names) is masked too, not only the email/phone columns.
# The domain may lack a TLD (``jane@crm-host``), be non-ASCII (``jane@bücher.de``), and the ``@``
# may be doubled (``jane@@example.com``, a typo the CRM kept).
EMAIL = re.compile(
    r"([^\s@<>()\[\]{},;:\"'`/\\|=&?#])[^\s@<>()\[\]{},;:\"'`/\\|=&?#]*@+([^\s@<>()\[\]{},;:\"'`/\\|=&?#.]+(?:\.[^\s@<>()\[\]{},;:\"'`/\\|=&?#.]+)*)"
)
# A phone: a leading "+" or "(", or digit groups split by separators; at least 7 digits. ISO dates
# (2026-11-02) and record ids (one unbroken run of letters and digits) are not phones.
PHONE = re.compile(
    r"(?<![\w+])(\+\d[\d ()./-]{5,}\d|\(?\d{2,4}\)?[ ./-]\d{2,4}[ ./-]\d{2,5}(?:[ ./-]\d{1,5})?)(?![\w])"
)
# Unseparated numbers with 10 to 15 digits (E.164 allows 15), optionally with a leading "+".
PHONE_RUN = re.compile(r"(?<![\w.,])\+?\d{10,15}(?![\w.,])")
# A calendar date first (2026-11-02, also "2026-11-02 06:00:00"): a date or a time stamp, not a phone.
_ISO_DATE = re.compile(r"^(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:$|[ T]\d)")
# A spreadsheet treats a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
# Seven ASCII digits anywhere in the text (a phone number needs them; one search, no copy of the text).
_SEVEN_DIGITS = re.compile(r"[0-9](?:[^0-9]*[0-9]){6}")


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

    out = PHONE.sub(repl, text)
    return PHONE_RUN.sub(lambda m: f"***{m.group(0)[-2:]}", out)


def mask_values(value: Any) -> Any:
    """:func:`mask_pii` on every string inside dicts/lists/tuples (a plan summary, table rows)."""
    if isinstance(value, dict):
        return {k: mask_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_values(v) for v in value)
    return mask_pii(value)


def mask_pii(value: Any, *, allow_emails: bool = False, allow_phones: bool = False) -> Any:
    """Mask emails and phone numbers inside a string value; other types pass through."""
    if not isinstance(value, str):
        return value
    # Cheap tests first (most text has neither): an address needs an "@", a phone number 7 digits
    # (counted for ASCII text; other text may hold other scripts' digits, which \d matches too).
    out = value if allow_emails or "@" not in value else mask_email(value)
    if allow_phones or (out.isascii() and _SEVEN_DIGITS.search(out) is None):
        return out
    return mask_phone(out)


def looks_like_formula(value: str) -> bool:
    """Would a spreadsheet run this text as a formula (OWASP CSV injection)?

    Checked on the NFKC-normalised text (full-width ``＝`` is ``=``) after leading whitespace and
    control characters, which spreadsheets skip (`` =HYPERLINK(...)``); a leading tab, CR or LF
    counts by itself.
    """
    first = value[:1]
    if first.isascii() and first.isalnum():
        # The common case, decided without normalising: NFKC leaves an ASCII letter or digit as it
        # is (a combining mark after it only composes another letter), and it is neither a space
        # nor a control character to skip, nor a formula prefix.
        return False
    if first in ("\t", "\r", "\n"):
        return True
    text = unicodedata.normalize("NFKC", value)
    stripped = text.lstrip(
        "".join(c for c in set(text[:64]) if c.isspace() or unicodedata.category(c) == "Cc")
    )
    return stripped.startswith(FORMULA_PREFIXES)


def neutralise_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe.

    Numbers stay numbers (a negative amount is not an injection); only strings are touched.
    """
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def mask_tree(root: Path, suffixes: tuple[str, ...] = (".html", ".json", ".md", ".csv", ".txt")) -> int:
    """Mask emails and phones in every text file under ``root`` in place (e.g. GX Data Docs);
    returns how many files changed."""
    changed = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        masked = mask_pii(text)
        if masked != text:
            path.write_text(masked, encoding="utf-8", errors="surrogateescape")
            changed += 1
    return changed
