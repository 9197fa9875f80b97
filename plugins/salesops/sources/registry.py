"""Pick a source by kind: the one place DAGs and the CLI turn configuration into a CrmSource.

Every import happens inside :func:`get_source`, so importing this module is cheap (DAG files may
import it at parse time) and a connector's dependencies load only when that connector is used.

Kinds and their arguments:

=============  ==========================================================================
``demo``       keyword arguments passed to ``salesops.sources.demo.DemoCrm`` (the embedded
               synthetic CRM)
``csv``        ``folder`` (export folder), ``column_map`` (YAML path; default
               ``<folder>/column_map.yaml``)
``salesforce`` ``conn_id`` (Airflow connection, default ``salesforce_default``)
``hubspot``    ``conn_id`` (default ``hubspot_default``)
``marketo``    ``conn_id`` (default ``marketo_default``)
=============  ==========================================================================
"""

from __future__ import annotations

from typing import Any

from salesops.sources.base import CrmSource

KINDS = ("demo", "csv", "salesforce", "hubspot", "marketo")
# The options each kind takes from a DAG's params (the demo takes none from a run: it is the
# embedded synthetic CRM on the project's data dir).
OPTIONS = {
    "demo": frozenset(),
    "csv": frozenset({"folder", "column_map"}),
    "salesforce": frozenset({"conn_id"}),
    "hubspot": frozenset({"conn_id"}),
    "marketo": frozenset({"conn_id"}),
}


def options_for(kind: str, **candidates: Any) -> dict[str, Any]:
    """The subset of ``candidates`` that ``kind`` takes, without empty values.

    DAG params offer every source's options at once (``source_conn_id``, ``csv_folder``...); only
    the ones the chosen kind takes reach it, so a connection id typed for Salesforce never reaches
    the demo CRM (``DemoCrm.__init__() got an unexpected keyword argument 'conn_id'``). Values of
    ``None``, ``""`` and the string ``"None"`` (how Jinja renders a null param) count as empty.

    Raises:
        ValueError: unknown kind.
    """
    key = (kind or "").strip().lower()
    if key not in OPTIONS:
        raise ValueError(f"unknown source kind {kind!r}; expected one of {', '.join(KINDS)}")
    return {
        k: v
        for k, v in candidates.items()
        if k in OPTIONS[key] and v is not None and not (isinstance(v, str) and v.strip() in ("", "None"))
    }


def get_source(kind: str, **kwargs: Any) -> CrmSource:
    """Build the source of the given kind.

    Args:
        kind: one of :data:`KINDS` (case-insensitive).
        **kwargs: the kind's arguments (see the module docstring).

    Raises:
        ValueError: unknown kind, or arguments the kind does not take.
    """
    key = (kind or "").strip().lower()
    if key == "demo":
        from salesops.sources.demo import DemoCrm

        return DemoCrm(**kwargs)
    if key == "csv":
        _only(key, kwargs, {"folder", "column_map", "page_size"})
        if not kwargs.get("folder"):
            raise ValueError("source 'csv' needs folder=<path to the export folder>")
        from salesops.sources.csv_export import CsvExportSource

        return CsvExportSource(
            kwargs["folder"],
            kwargs.get("column_map"),
            **({"page_size": kwargs["page_size"]} if "page_size" in kwargs else {}),
        )
    if key == "salesforce":
        _only(key, kwargs, {"conn_id"})
        from salesops.sources.salesforce_bulk import SalesforceVolumeSource

        return SalesforceVolumeSource.from_conn_id(kwargs.get("conn_id") or "salesforce_default")
    if key == "hubspot":
        _only(key, kwargs, {"conn_id"})
        from salesops.sources.hubspot import HubSpotSource

        return HubSpotSource.from_conn_id(kwargs.get("conn_id") or "hubspot_default")
    if key == "marketo":
        _only(key, kwargs, {"conn_id"})
        from salesops.sources.marketo import MarketoSource

        return MarketoSource.from_conn_id(kwargs.get("conn_id") or "marketo_default")
    raise ValueError(f"unknown source kind {kind!r}; expected one of {', '.join(KINDS)}")


def _only(kind: str, kwargs: dict[str, Any], allowed: set[str]) -> None:
    extra = set(kwargs) - allowed
    if extra:
        raise ValueError(f"source {kind!r} does not take {sorted(extra)}; it takes {sorted(allowed)}")
