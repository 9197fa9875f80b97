"""Packs never render from a half-built set of KPI marts (a scheduled pack run can start while
kpi_transforms is still building; seen on a real scheduler)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_pack_gate_waits_for_a_complete_kpi_build(demo_env):
    from salesops.kpis.runner import build, clear_ready, ready_as_of
    from salesops.packs.tasks import PackPlanError, gate

    wh = demo_env.warehouse
    conn_id = "salesops_warehouse"  # not defined: the hook falls back to the (copied) default file
    assert ready_as_of(wh) is None  # nothing built yet in this copy
    result = build(wh)
    assert ready_as_of(wh) == result.as_of_date[:10]
    assert gate({}, conn_id)["as_of_date"] == result.as_of_date[:10]

    clear_ready(wh)  # what a starting build does
    with pytest.raises(PackPlanError, match="KPI marts are not complete"):
        gate({}, conn_id)
    build(wh, select=["int_user_rollup"])  # a partial build does not declare the set complete
    assert ready_as_of(wh) is None
    build(wh)
    assert gate({}, conn_id)["as_of_date"] == result.as_of_date[:10]
