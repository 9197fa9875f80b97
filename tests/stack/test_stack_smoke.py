"""The shared stack fixture itself: every component up, users and roles as documented."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.stack


def test_stack_components_and_users(airflow_stack):
    airflow_stack.assert_healthy()
    dags = airflow_stack.client("admin").dags()
    assert not any(d["is_paused"] for d in dags.values())
    assert airflow_stack.client("requester").dags().keys() == dags.keys()
