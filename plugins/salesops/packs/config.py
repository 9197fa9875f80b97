"""The pack catalogue (include/config/packs.yaml, validated by :mod:`salesops.policy`) as dataclasses.

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

from salesops import policy as _policy
from salesops.config import ConfigError
from salesops.policy.models.packs import AudienceModel, PacksPolicy

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
    max_rows_xlsx: int
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


def _audiences(raw: list[AudienceModel]) -> tuple[Audience, ...]:
    out = []
    for a in raw:
        if a.scope == "all":
            vals: tuple[str, ...] | None = ("all",)
        elif a.values == "*":
            vals = None
        else:
            vals = tuple(a.values or ())
        out.append(Audience(a.scope, vals, tuple(a.recipients)))
    return tuple(out)


def parse_packs(data: dict[str, Any], known_sections: set[str] | None = None) -> dict[str, PackSpec]:
    """Validate parsed packs.yaml (shape by :mod:`salesops.policy`, sections by the catalogue).

    Args:
        data: the YAML mapping.
        known_sections: section ids that exist (default: the section catalogue).

    Raises:
        PackConfigError: naming the pack and key that is wrong.
    """
    if known_sections is None:
        from salesops.packs.sections import SECTIONS

        known_sections = set(SECTIONS)
    try:
        model: PacksPolicy = _policy.validate("packs", data)
    except ConfigError as exc:
        raise PackConfigError(str(exc)) from None
    return _specs(model, known_sections)


def _specs(model: PacksPolicy, known_sections: set[str]) -> dict[str, PackSpec]:
    d = model.defaults
    definitions = {str(k): " ".join(str(v).split()) for k, v in model.definitions.items()}
    out = {}
    for name, p in model.packs.items():
        unknown = [s for s in p.sections if s not in known_sections]
        if unknown:
            raise PackConfigError(
                f"packs.yaml: packs.{name}.sections: unknown section(s) {unknown}; known {sorted(known_sections)}"
            )
        pii = p.pii or d.pii
        schedule = p.schedule
        every = schedule.every
        days_before = schedule.days_before
        if days_before is None:
            days_before = 1 if every in ("month_end", "quarter_end") else 0
        channels = p.channels if p.channels is not None else d.channels
        if channels is None:
            raise PackConfigError(
                f"packs.yaml: packs.{name}.channels: got nothing; expected a list of channels"
            )
        out[name] = PackSpec(
            name=name,
            title=p.title or name,
            sections=tuple(p.sections),
            audiences=_audiences(p.audiences),
            schedule=Schedule(every, schedule.weekday, days_before),
            period=p.period,
            channels=tuple(channels),
            attach=tuple(p.attach if p.attach is not None else d.attach),
            allow_emails=pii.allow_emails,
            allow_phones=pii.allow_phones,
            freshness_hours=float(p.freshness_hours if p.freshness_hours is not None else d.freshness_hours),
            deliver_within_hours=float(
                p.deliver_within_hours if p.deliver_within_hours is not None else d.deliver_within_hours
            ),
            max_rows_html=p.max_rows_html if p.max_rows_html is not None else d.max_rows_html,
            max_rows_xlsx=p.max_rows_xlsx if p.max_rows_xlsx is not None else d.max_rows_xlsx,
            currency=p.currency if p.currency is not None else d.currency,
            sender=p.sender if p.sender is not None else d.sender,
            revops_team=tuple(p.revops_team if p.revops_team is not None else d.revops_team),
            definitions=definitions,
        )
    return out


@lru_cache(maxsize=2)
def load_packs(config_dir: Path | None = None) -> dict[str, PackSpec]:
    """Every pack of include/config/packs.yaml, validated, in file order."""
    from salesops.packs.sections import SECTIONS

    return _specs(_policy.packs(config_dir if config_dir is not None else True), set(SECTIONS))


_policy.on_reset(load_packs.cache_clear)


def layout_processes(config_dir: Path | None = None) -> int:
    """packs.yaml ``layout_processes``: the worker processes laying out the slices' files ("auto" =
    the cores this process may run on; 1 = none: the task process writes them)."""
    import os

    value = _policy.packs(config_dir if config_dir is not None else True).layout_processes
    if value != "auto":
        return int(value)
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # no affinity on this platform
        return os.cpu_count() or 1


def get_pack(name: str) -> PackSpec:
    """One pack; an unknown name lists the known ones."""
    packs = load_packs()
    if name not in packs:
        raise PackConfigError(f"unknown pack {name!r}; packs.yaml defines {sorted(packs)}")
    return packs[name]
