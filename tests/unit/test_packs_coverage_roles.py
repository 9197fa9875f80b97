"""The coverage pack's two datasets agree on kpis.yaml coverage.rollup_quota_roles.

packs/coverage.sql (a team's quota) and the mart agg_pipeline_coverage read an empty
``quota_rollup_role`` list as "every role carries quota"; packs/coverage_by_rep.sql (the rep table
and chart under it) must list the same quota-carrying reps, so a team's rows add up to its figure.
Run on a bare DuckDB with the few mart/staging tables the two files read.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from salesops import sql

_TEAM = {"scope_type": "team", "scope_value": "A"}


def _run(con: duckdb.DuckDBPyConnection, relpath: str, **params: str) -> list[dict]:
    # salesops binds `:name`; DuckDB's own named parameters are `$name`
    statement = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"$\1", sql.render(relpath, dialect="duckdb"))
    cur = con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture
def warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts; create schema staging")
    con.execute(
        "create table staging.stg_crm__user as select * from (values"
        " ('u1', 'Ann', 'A', 'EMEA', 'Account Executive'),"
        " ('u2', 'Bob', 'A', 'EMEA', 'Sales Manager')"
        ") as t (id, name, team, region, user_role)"
    )
    # Two reps of team A with quota and no open pipeline in the current quarter.
    con.execute(
        "create table marts.agg_pipeline_coverage as select * from (values"
        " ('rep', 'u1', 'Ann', 'current', 'FY27-Q1', 100.0, 0.0, 0, 0.0, 0.0, 3.0),"
        " ('rep', 'u2', 'Bob', 'current', 'FY27-Q1', 50.0, 0.0, 0, 0.0, 0.0, 3.0)"
        ") as t (rollup_level, rollup_key, rollup_label, quarter_relative, fiscal_quarter, quota_amount,"
        " open_pipeline_amount, open_pipeline_count, closed_won_amount, coverage_ratio, coverage_target_ratio)"
    )
    con.execute(
        "create table marts.kpi_context as select 'FY27-Q1' as current_fiscal_quarter_label,"
        " 109 as current_fiscal_quarter_index, 'FY27-Q2' as next_fiscal_quarter_label,"
        " 110 as next_fiscal_quarter_index, 3.0 as coverage_target_ratio"
    )
    con.execute("create table marts.kpi_policy_list (list_name varchar, value varchar)")
    return con


def _team_quota(con: duckdb.DuckDBPyConnection) -> float:
    rows = _run(con, "packs/coverage.sql", **_TEAM)
    return next(r["quota_amount"] for r in rows if r["quarter_relative"] == "current")


def _listed_reps(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = _run(con, "packs/coverage_by_rep.sql", quarter_relative="current", **_TEAM)
    return sorted(r["owner_id"] for r in rows)


def test_listed_reps_are_the_quota_roles_the_team_figure_sums(warehouse):
    warehouse.execute("insert into marts.kpi_policy_list values ('quota_rollup_role', 'Account Executive')")
    assert _team_quota(warehouse) == 100.0
    assert _listed_reps(warehouse) == ["u1"]


def test_no_quota_roles_means_every_role_in_both_datasets(warehouse):
    # empty coverage.rollup_quota_roles: every user's quota counts (coverage.sql, the mart) ...
    assert _team_quota(warehouse) == 150.0
    # ... so every rep with quota is listed, not only those with open pipeline
    assert _listed_reps(warehouse) == ["u1", "u2"]
