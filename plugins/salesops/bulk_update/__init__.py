"""Controlled bulk updates: plan -> human approval -> safe batched write-back -> change log -> undo.

Public API (what the DAG, the CLI and other jobs call):

- :func:`build_plan` / :func:`build_undo_plan` / :func:`load_plan` - immutable, hashed plans in ops.*
- :func:`apply_plan` - drift-checked, batched, idempotent write of an approved plan
- :mod:`salesops.bulk_update.approval` - decisions (UI or REST API as the approver, timeout, demo switch)
- :func:`change_log` - the latest state of every change of a plan
- :mod:`salesops.bulk_update.model` - plans, rows, errors and states (the leaf every module shares)
- :mod:`salesops.bulk_update.plan_types` - one module per plan type (discovered; the DAG enum)
- :mod:`salesops.bulk_update.quality_link` - plans against the quality exception queue (``scope['quality']``)
- ``python -m salesops.bulk_update`` - build/show/approve/reject/expire from a shell
"""

from __future__ import annotations

import importlib
from typing import Any

# Lazy: DAG files import salesops.bulk_update.operators at parse time, which must not pull in the
# warehouse and source stacks (pyarrow, sqlalchemy) through this package's __init__.
_EXPORTS = {
    "ApplyFailed": "apply",
    "ApplyReport": "apply",
    "apply_plan": "apply",
    "change_log": "apply",
    "EmptyPlan": "model",
    "Plan": "model",
    "PlanError": "model",
    "PlanGuardError": "model",
    "PlanIntegrityError": "model",
    "build_plan": "plan",
    "build_undo_plan": "plan",
    "load_plan": "plan",
    "summarize": "model",
    "load_settings": "settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"salesops.bulk_update.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'salesops.bulk_update' has no attribute {name!r}")
