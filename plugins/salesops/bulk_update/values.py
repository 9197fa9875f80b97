"""One canonical text form per field value, so plan, CRM and change log compare like with like.

Plan SQL reads typed staging columns, the CRM answers with JSON values; both go through
:func:`canon` (by the field's objects.yaml type) before anything is compared, hashed or stored.
``None`` (null) and ``""`` (blank) stay distinct: the empty-value policy depends on it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


class ValueFormatError(ValueError):
    """A value cannot be read as the field's type."""


def canon(value: Any, ftype: str) -> str | None:
    """Canonical text of ``value`` for a field of objects.yaml type ``ftype``.

    Numbers lose trailing zeros (``10.0`` -> ``"10"``), dates are ``YYYY-MM-DD``, booleans
    ``true``/``false``, timestamps ISO 8601 as given. ``None`` stays ``None``; ``""`` stays ``""``.
    """
    if value is None:
        return None
    if isinstance(value, str) and value == "":
        return ""
    if ftype in ("int", "decimal", "double"):
        if isinstance(value, bool):
            raise ValueFormatError(f"expected a number, got {value!r}")
        try:
            d = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueFormatError(f"expected a number, got {value!r}") from None
        text = format(d.normalize(), "f")
        return "0" if text in ("-0", "") else text
    if ftype == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        text = str(value).strip()
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            raise ValueFormatError(f"expected a date YYYY-MM-DD, got {value!r}") from None
    if ftype == "bool":
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value).strip().lower()
        if text in ("true", "1", "t"):
            return "true"
        if text in ("false", "0", "f"):
            return "false"
        raise ValueFormatError(f"expected a boolean, got {value!r}")
    if ftype == "timestamp" and isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def to_api(text: str | None, ftype: str) -> Any:
    """The JSON value to send to the CRM for canonical ``text`` (inverse of :func:`canon`)."""
    if text is None:
        return None
    if text == "":
        return ""
    if ftype == "int":
        return int(Decimal(text))
    if ftype in ("decimal", "double"):
        d = Decimal(text)
        return int(d) if d == d.to_integral_value() and ftype == "decimal" else float(d)
    if ftype == "bool":
        return text == "true"
    return text


def is_empty(text: str | None) -> bool:
    return text is None or text == ""
