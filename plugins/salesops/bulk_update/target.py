"""Which CRM a plan is for: the target system and org/instance, recorded at build, checked at apply.

A target is ``"<system>:<instance>"``: ``demo:/abs/path/demo_crm.duckdb``,
``salesforce:https://acme.my.salesforce.com``, ``hubspot:<portal or host>``. A plan records the
target it was built for (``scope["target"]``); :func:`salesops.bulk_update.apply.apply_plan`
refuses a source whose target differs, and the demo approval channel works only for plans whose
target system is ``demo``. Computing a target reads a connection's settings, never the network.
"""

from __future__ import annotations

from typing import Any

from salesops.bulk_update.model import PlanError


class TargetMismatch(PlanError):
    """A plan is applied (or approved) against a CRM other than the one it was built for."""


def split(target: str | None) -> tuple[str, str]:
    """``(system, instance)`` of a target string (instance may be empty)."""
    system, _, instance = (target or "").partition(":")
    return system.strip().lower(), instance.strip()


def _conn_instance(conn_id: str) -> str:
    from airflow.sdk.bases.hook import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException and friends: retrying cannot help
        raise PlanError(
            f"connection {conn_id!r} is not defined: cannot tell which org/instance the plan is for"
        ) from exc
    extras = conn.extra_dejson or {}
    value = extras.get("instance_url") or extras.get("portal_id") or extras.get("munchkin_id") or conn.host
    return str(value or conn_id).rstrip("/").lower()


def describe(kind: str, kwargs: dict[str, Any] | None = None) -> str:
    """The target string of the source ``get_source(kind, **kwargs)`` would build."""
    kwargs = {k: v for k, v in (kwargs or {}).items() if v not in (None, "")}
    key = (kind or "").strip().lower()
    if key == "demo":
        # Through the registry (the demo CRM is a package beside the library); building the demo
        # source only resolves its file path.
        from salesops.sources.registry import get_source

        return of_source(get_source("demo", **({"path": kwargs["path"]} if kwargs.get("path") else {})))
    from salesops.sources.registry import SOURCES

    entry = SOURCES.get(key)
    if entry is not None and entry.default_conn_id:  # the API kinds: the connection's org/instance
        conn_id = kwargs.get("conn_id") or entry.default_conn_id
        return f"{key}:{_conn_instance(conn_id)}"
    raise PlanError(f"source kind {kind!r} is not a CRM bulk updates can write to")


def of_source(source: Any) -> str:
    """The target of a source object: its ``target_id`` when it has one, else ``<name>:``."""
    value = getattr(source, "target_id", None)
    return str(value) if value else f"{getattr(source, 'name', '?')}:"


def check(plan_target: str | None, actual: str, plan_id: str) -> None:
    """Refuse to apply ``plan_id`` to ``actual`` when it was built for another target."""
    if not plan_target:
        raise TargetMismatch(
            f"plan {plan_id} records no target CRM (built before targets were recorded); rebuild it"
        )
    p_sys, p_inst = split(plan_target)
    a_sys, a_inst = split(actual)
    if p_sys != a_sys or (p_inst and a_inst and p_inst != a_inst):
        raise TargetMismatch(f"plan {plan_id} was built for {plan_target}; refusing to apply it to {actual}")
    if p_inst and not a_inst:
        raise TargetMismatch(
            f"plan {plan_id} was built for {plan_target}; the source {actual} does not say which "
            "org/instance it is, so the plan is not applied"
        )
