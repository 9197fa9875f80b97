"""The pack catalogue (include/config/packs.yaml), validated into plain dataclasses.

Usage::

    from salesops.packs.config import load_packs, get_pack
    spec = get_pack("weekly_pipeline_inspection")
    spec.recipients_for("region", "EMEA")   # ['leader-emea@example.com']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from salesops.config import ConfigError, load_yaml

SCOPES = ("all", "region", "team", "owner")
CHANNELS = ("email", "slack", "file")
ATTACHMENTS = ("pdf", "xlsx", "html")
PERIODS = ("day", "week", "fiscal_month", "fiscal_quarter")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ADDRESS = re.compile(r"^[A-Za-z0-9._%+{}-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


class PackConfigError(ConfigError):
    """packs.yaml is malformed; the message names the pack and the key."""


@dataclass(frozen=True)
class Audience:
    """Who receives which slice of a pack."""

    scope: str  # all | region | team | owner
    values: tuple[str, ...] | None  # None = every value in the data ("*")
    recipients: tuple[str, ...]

    def addresses(self, value: str) -> list[str]:
        """Recipient addresses for one scope value (``{value}`` filled in, lower case, slugged)."""
        slug = re.sub(r"[^a-z0-9.]+", "-", value.lower()).strip("-") or "none"
        return [r.replace("{value}", slug) for r in self.recipients]


@dataclass(frozen=True)
class Schedule:
    every: str  # day | week | month_end | quarter_end
    weekday: str | None = None
    days_before: int = 0

    def is_due(self, as_of: date, month_end: date, quarter_end: date) -> bool:
        """Whether a pack with this schedule is due for data as of ``as_of``.

        Args:
            as_of: the data's as-of date.
            month_end / quarter_end: last day of the fiscal month / quarter containing ``as_of``.
        """
        if self.every == "day":
            return True
        if self.every == "week":
            return WEEKDAYS[as_of.weekday()] == self.weekday
        end = month_end if self.every == "month_end" else quarter_end
        return end - timedelta(days=self.days_before - 1 if self.days_before else 0) <= as_of <= end


@dataclass(frozen=True)
class PackSpec:
    """One pack of packs.yaml with the defaults applied."""

    name: str
    title: str
    sections: tuple[str, ...]
    audiences: tuple[Audience, ...]
    schedule: Schedule
    period: str
    channels: tuple[str, ...]
    attach: tuple[str, ...]
    allow_emails: bool
    allow_phones: bool
    freshness_hours: float
    deliver_within_hours: float
    max_rows_html: int
    currency: str
    sender: str
    revops_team: tuple[str, ...]
    definitions: dict[str, str] = field(default_factory=dict)

    def audience(self, scope: str) -> Audience:
        for a in self.audiences:
            if a.scope == scope:
                return a
        raise PackConfigError(
            f"pack {self.name!r} has no audience with scope {scope!r}; "
            f"it has {[a.scope for a in self.audiences]}"
        )

    def recipients_for(self, scope: str, value: str) -> list[str]:
        return self.audience(scope).addresses(value)


def _list(raw: Any, where: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise PackConfigError(f"{where}: expected a list of strings, got {raw!r}")
    if allowed is not None:
        bad = [x for x in raw if x not in allowed]
        if bad:
            raise PackConfigError(f"{where}: {bad} not in {list(allowed)}")
    return tuple(raw)


def _schedule(raw: Any, where: str) -> Schedule:
    if not isinstance(raw, dict) or raw.get("every") not in ("day", "week", "month_end", "quarter_end"):
        raise PackConfigError(
            f"{where}: expected {{every: day|week|month_end|quarter_end, ...}}, got {raw!r}"
        )
    if raw["every"] == "week" and raw.get("weekday") not in WEEKDAYS:
        raise PackConfigError(
            f"{where}.weekday: expected one of {list(WEEKDAYS)}, got {raw.get('weekday')!r}"
        )
    days = raw.get("days_before", 1 if raw["every"] in ("month_end", "quarter_end") else 0)
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise PackConfigError(f"{where}.days_before: expected an integer >= 0, got {days!r}")
    return Schedule(raw["every"], raw.get("weekday"), days)


def _audiences(raw: Any, where: str) -> tuple[Audience, ...]:
    if not isinstance(raw, list) or not raw:
        raise PackConfigError(f"{where}: expected a non-empty list of audiences")
    out = []
    for i, a in enumerate(raw):
        w = f"{where}[{i}]"
        if not isinstance(a, dict) or a.get("scope") not in SCOPES:
            raise PackConfigError(f"{w}.scope: expected one of {list(SCOPES)}, got {a!r}")
        values = a.get("values")
        if a["scope"] == "all":
            vals: tuple[str, ...] | None = ("all",)
        elif values == "*":
            vals = None
        else:
            vals = _list(values, f"{w}.values")
        recipients = _list(a.get("recipients"), f"{w}.recipients")
        for r in recipients:
            if not _ADDRESS.match(r):
                raise PackConfigError(f"{w}.recipients: {r!r} is not an email address")
        if any(x.scope == a["scope"] for x in out):
            raise PackConfigError(f"{w}: scope {a['scope']!r} listed twice")
        out.append(Audience(a["scope"], vals, recipients))
    return tuple(out)


def parse_packs(data: dict[str, Any], known_sections: set[str] | None = None) -> dict[str, PackSpec]:
    """Validate parsed packs.yaml.

    Args:
        data: the YAML mapping.
        known_sections: section ids that exist (default: the section catalogue).

    Raises:
        PackConfigError: naming the pack and key that is wrong.
    """
    if known_sections is None:
        from salesops.packs.sections import SECTIONS

        known_sections = set(SECTIONS)
    defaults = data.get("defaults") or {}
    definitions = data.get("definitions") or {}
    if not isinstance(definitions, dict):
        raise PackConfigError("packs.yaml definitions: expected a mapping")
    packs = data.get("packs")
    if not isinstance(packs, dict) or not packs:
        raise PackConfigError("packs.yaml: expected a non-empty mapping under 'packs'")
    out = {}
    for name, raw in packs.items():
        where = f"packs.yaml packs.{name}"
        if not isinstance(raw, dict):
            raise PackConfigError(f"{where}: expected a mapping")
        merged = {**defaults, **raw}
        sections = _list(merged.get("sections"), f"{where}.sections")
        unknown = [s for s in sections if s not in known_sections]
        if unknown:
            raise PackConfigError(
                f"{where}.sections: unknown section(s) {unknown}; known {sorted(known_sections)}"
            )
        if merged.get("period") not in PERIODS:
            raise PackConfigError(
                f"{where}.period: expected one of {list(PERIODS)}, got {merged.get('period')!r}"
            )
        pii = merged.get("pii") or {}
        out[name] = PackSpec(
            name=name,
            title=str(merged.get("title") or name),
            sections=sections,
            audiences=_audiences(merged.get("audiences"), f"{where}.audiences"),
            schedule=_schedule(merged.get("schedule"), f"{where}.schedule"),
            period=merged["period"],
            channels=_list(merged.get("channels"), f"{where}.channels", CHANNELS),
            attach=_list(merged.get("attach", ["pdf", "xlsx"]), f"{where}.attach", ATTACHMENTS),
            allow_emails=bool(pii.get("allow_emails", False)),
            allow_phones=bool(pii.get("allow_phones", False)),
            freshness_hours=float(merged.get("freshness_hours", 36)),
            deliver_within_hours=float(merged.get("deliver_within_hours", 30)),
            max_rows_html=int(merged.get("max_rows_html", 15)),
            currency=str(merged.get("currency", "$")),
            sender=str(merged.get("sender", "salesops-reports@example.com")),
            revops_team=_list(merged.get("revops_team", ["revops-demo@example.com"]), f"{where}.revops_team"),
            definitions={str(k): " ".join(str(v).split()) for k, v in definitions.items()},
        )
    return out


@lru_cache(maxsize=2)
def load_packs(config_dir: Path | None = None) -> dict[str, PackSpec]:
    """Every pack of include/config/packs.yaml, validated, in file order."""
    return parse_packs(load_yaml("packs.yaml", config_dir))


def get_pack(name: str) -> PackSpec:
    """One pack; an unknown name lists the known ones."""
    packs = load_packs()
    if name not in packs:
        raise PackConfigError(f"unknown pack {name!r}; packs.yaml defines {sorted(packs)}")
    return packs[name]
