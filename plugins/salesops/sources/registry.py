"""Pick a source by kind: the one place DAGs and the CLI turn configuration into a CrmSource.

Each kind is one :class:`SourceKind` entry in :data:`SOURCES`: a dotted path to the callable that
builds it (imported only when that kind is used, so importing this module is cheap — DAG files may
import it at parse time — and a connector's dependencies load only when that connector is used),
the arguments it takes, and whether bulk updates may write to it. The demo CRM is a package of its
own beside the library (``plugins/salesops_demo``) and reaches the library only through its entry
here, like any other source.

Kinds and their arguments:

=============  ==========================================================================
``demo``       keyword arguments passed to ``salesops_demo.DemoCrm`` (the embedded
               synthetic CRM; ``path`` = its DuckDB file)
``csv``        ``folder`` (export folder), ``column_map`` (YAML path; default
               ``<folder>/column_map.yaml``)
``salesforce`` ``conn_id`` (Airflow connection, default ``salesforce_default``)
``hubspot``    ``conn_id`` (default ``hubspot_default``)
``marketo``    ``conn_id`` (default ``marketo_default``)
=============  ==========================================================================
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the interface module imports pyarrow: not at DAG-parse time
    from salesops.sources.base import CrmSource


@dataclass(frozen=True)
class SourceKind:
    """One source kind.

    Attributes:
        name: the kind (``source`` param value).
        factory: ``"module:attribute[.attribute]"`` of the callable that builds the source from
            keyword arguments; imported lazily by :func:`get_source`.
        options: the arguments a DAG run's params may pass to it (see :func:`options_for`).
        accepts: every keyword argument the factory takes (``None``: any, passed through).
        required: arguments that must be given.
        default_conn_id: for API kinds, the connection used when ``conn_id`` is empty.
        writable: bulk updates may write to it (it implements ``update_records``).
    """

    name: str
    factory: str
    options: frozenset[str] = frozenset()
    accepts: frozenset[str] | None = None
    required: frozenset[str] = frozenset()
    default_conn_id: str | None = None
    writable: bool = False


SOURCES: dict[str, SourceKind] = {
    s.name: s
    for s in (
        # The demo takes no options from a run: it is the embedded synthetic CRM on the project's
        # data dir (tests and scripts pass ``path``).
        SourceKind("demo", "salesops_demo:DemoCrm", writable=True),
        SourceKind(
            "csv",
            "salesops.sources.csv_export:CsvExportSource.from_options",
            options=frozenset({"folder", "column_map"}),
            accepts=frozenset({"folder", "column_map", "page_size"}),
            required=frozenset({"folder"}),
        ),
        SourceKind(
            "salesforce",
            "salesops.sources.salesforce_bulk:SalesforceVolumeSource.from_conn_id",
            options=frozenset({"conn_id"}),
            accepts=frozenset({"conn_id"}),
            default_conn_id="salesforce_default",
            writable=True,
        ),
        SourceKind(
            "hubspot",
            "salesops.sources.hubspot:HubSpotSource.from_conn_id",
            options=frozenset({"conn_id"}),
            accepts=frozenset({"conn_id"}),
            default_conn_id="hubspot_default",
            writable=True,
        ),
        SourceKind(
            "marketo",
            "salesops.sources.marketo:MarketoSource.from_conn_id",
            options=frozenset({"conn_id"}),
            accepts=frozenset({"conn_id"}),
            default_conn_id="marketo_default",
        ),
    )
}

KINDS = tuple(SOURCES)
# The kinds bulk updates may write to (crm_bulk_update's `source` enum; crm_extract_load's is KINDS).
WRITABLE_KINDS = tuple(name for name, entry in SOURCES.items() if entry.writable)
# The options each kind takes from a DAG's params.
OPTIONS = {name: kind.options for name, kind in SOURCES.items()}


def kind(name: str) -> SourceKind:
    """The entry of kind ``name`` (case-insensitive).

    Raises:
        ValueError: unknown kind.
    """
    key = (name or "").strip().lower()
    if key not in SOURCES:
        raise ValueError(f"unknown source kind {name!r}; expected one of {', '.join(KINDS)}")
    return SOURCES[key]


def options_for(kind_name: str, **candidates: Any) -> dict[str, Any]:
    """The subset of ``candidates`` that ``kind_name`` takes, without empty values.

    DAG params offer every source's options at once (``source_conn_id``, ``csv_folder``...); only
    the ones the chosen kind takes reach it, so a connection id typed for Salesforce never reaches
    the demo CRM (``DemoCrm.__init__() got an unexpected keyword argument 'conn_id'``). Values of
    ``None``, ``""`` and the string ``"None"`` (how Jinja renders a null param) count as empty.

    Raises:
        ValueError: unknown kind.
    """
    options = kind(kind_name).options
    return {
        k: v
        for k, v in candidates.items()
        if k in options and v is not None and not (isinstance(v, str) and v.strip() in ("", "None"))
    }


def get_source(kind_name: str, **kwargs: Any) -> CrmSource:
    """Build the source of the given kind.

    Args:
        kind_name: one of :data:`KINDS` (case-insensitive).
        **kwargs: the kind's arguments (see the module docstring).

    Raises:
        ValueError: unknown kind, or arguments the kind does not take, or a required one missing.
    """
    entry = kind(kind_name)
    if entry.accepts is not None:
        extra = set(kwargs) - entry.accepts
        if extra:
            raise ValueError(
                f"source {entry.name!r} does not take {sorted(extra)}; it takes {sorted(entry.accepts)}"
            )
    for name in sorted(entry.required):
        if not kwargs.get(name):
            raise ValueError(f"source {entry.name!r} needs {name}=<{_REQUIRED_HINT.get(name, name)}>")
    if entry.default_conn_id is not None:
        kwargs["conn_id"] = kwargs.get("conn_id") or entry.default_conn_id
    source: CrmSource = load_factory(entry)(**kwargs)
    return source


_REQUIRED_HINT = {"folder": "path to the export folder"}


def load_factory(entry: SourceKind) -> Callable[..., Any]:
    """Import and return the callable named by ``entry.factory`` (``module:attr[.attr]``)."""
    module_name, _, attr_path = entry.factory.partition(":")
    obj: Any = importlib.import_module(module_name)
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    return obj  # type: ignore[no-any-return]
