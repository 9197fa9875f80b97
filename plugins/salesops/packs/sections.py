"""The section catalogue: each section reads its datasets (include/sql/packs/*.sql, scoped) and
returns cards, tables and charts, plus the warehouse totals the pack check compares them with.

Add a section by writing a builder ``def build_x(ctx) -> Section`` and listing it in SECTIONS.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from salesops.packs import charts
from salesops.packs.model import (
    Card,
    Chart,
    Column,
    Section,
    Table,
    TotalCheck,
    columns,
    duckdb_columns,
    plain,
)

if TYPE_CHECKING:
    import pandas as pd

    from salesops.packs.config import PackSpec
    from salesops.warehouse.core import Warehouse

STEP_LABELS = {
    "starting_pipeline": "Starting pipeline",
    "new": "New",
    "reopened": "Reopened",
    "pulled_in": "Pulled in",
    "pushed_in": "Pushed in",
    "amount_up": "Amount up",
    "amount_down": "Amount down",
    "pushed": "Pushed",
    "slipped": "Slipped",
    "moved_out_other": "Moved out (other)",
    "won": "Won",
    "lost": "Lost",
    "removed": "Removed (deleted)",
    "ending_pipeline": "Ending pipeline",
    "stage_advanced": "Stage advanced",
    "stage_regressed": "Stage regressed",
}
HISTORY_QUARTERS = 6
SLA_WEEKS = 13
SLA_WINDOW_DAYS = 90
ROUTING_CHECKS = ("lead_sla_breach", "lead_misrouted", "lead_unassigned")


@dataclass
class BuildContext:
    """What a section builder gets: the warehouse, the pack, the scope and the data's context."""

    wh: Warehouse
    spec: PackSpec
    scope_type: str
    scope_value: str
    info: dict[str, Any]
    checks: list[TotalCheck] = field(default_factory=list)
    _cache: dict[Any, Any] = field(default_factory=dict)

    def q(
        self,
        dataset: str,
        *,
        scope: tuple[str, str] | None = None,
        jinja: dict[str, Any] | None = None,
        **params: Any,
    ) -> pd.DataFrame:
        """Run include/sql/packs/<dataset>.sql for this scope (or ``scope``); results are cached."""
        scope_type, scope_value = scope or (self.scope_type, self.scope_value)
        key = self._key("frame", dataset, scope_type, scope_value, params, jinja)
        if key not in self._cache:
            self._cache[key] = self.wh.query_file(
                f"packs/{dataset}.sql",
                {"scope_type": scope_type, "scope_value": scope_value, **params},
                **(jinja or {}),
            )
        return self._cache[key]

    def chart(self, draw: Callable[..., bytes], *args: Any, **kwargs: Any) -> Future[bytes]:
        """The PNG of ``draw(*args, **kwargs)`` (a :mod:`salesops.packs.charts` function), drawn
        in a layout process (:mod:`salesops.packs.layout`) while the slice's queries go on;
        render_pack waits for it (:meth:`~salesops.packs.model.Chart.drawn`) before the page."""
        from salesops.packs import layout

        return layout.submit(draw, *args, **kwargs)

    def rows(
        self,
        dataset: str,
        *,
        scope: tuple[str, str] | None = None,
        jinja: dict[str, Any] | None = None,
        **params: Any,
    ) -> list[dict[str, Any]]:
        """The rows of :meth:`q` as plain dicts (a new list of new dicts on every call: builders
        add keys to them). On DuckDB the result goes from Arrow straight to the values
        :func:`~salesops.packs.model.records` gives for :meth:`q`'s frame, without the frame."""
        scope_type, scope_value = scope or (self.scope_type, self.scope_value)
        key = self._key("rows", dataset, scope_type, scope_value, params, jinja)
        if key not in self._cache:
            bound = {"scope_type": scope_type, "scope_value": scope_value, **params}
            got = self._duckdb_columns(dataset, bound, jinja or {})
            if got is None:
                df = self.q(dataset, scope=scope, jinja=jinja, **params)
                got = [str(k) for k in df.columns], columns(df)
            self._cache[key] = got
        keys, cols = self._cache[key]
        return [dict(zip(keys, row, strict=True)) for row in zip(*cols, strict=True)]

    @staticmethod
    def _key(
        kind: str,
        dataset: str,
        scope_type: str,
        scope_value: str,
        params: dict[str, Any],
        jinja: dict[str, Any] | None,
    ) -> tuple[Any, ...]:
        """The cache key of one query result (``kind``: the frame or the plain rows)."""
        return (
            kind,
            dataset,
            scope_type,
            scope_value,
            tuple(sorted(params.items())),
            repr(sorted((jinja or {}).items())),
        )

    def _duckdb_columns(
        self, dataset: str, params: dict[str, Any], jinja: dict[str, Any]
    ) -> tuple[list[str], list[list[Any]]] | None:
        """include/sql/packs/<dataset>.sql's result as (column names, plain column values) read
        through Arrow, or None (not DuckDB, or a column type :func:`duckdb_columns` leaves to pandas)."""
        if self.wh.dialect != "duckdb":
            return None
        import sqlalchemy as sa

        from salesops import sql

        statement = sql.render(f"packs/{dataset}.sql", dialect=self.wh.dialect, **jinja)
        with self.wh.connect() as conn, warnings.catch_warnings():
            # DuckDB warns that Arrow from a DB-API cursor copies the rows (one copy, of Arrow
            # buffers: far cheaper than the Python tuples read_sql_query builds)
            warnings.simplefilter("ignore", UserWarning)
            cursor = conn.execute(sa.text(statement), params).cursor
            description = cursor.description
            to_arrow = getattr(cursor, "to_arrow_table", None) or cursor.fetch_arrow_table
            table = to_arrow()
        got = duckdb_columns(table, [str(d[1]) for d in description])
        return None if got is None else ([d[0] for d in description], got)

    def release(self) -> None:
        """Drop the cached query results (the built sections keep the rows they use)."""
        self._cache.clear()

    def check(self, key: str, dataset: str, column: str, **params: Any) -> float:
        """Record a pack check: card ``key`` must equal ``column`` of checks/<dataset>.sql in scope."""
        row = self.rows(f"checks/{dataset}", **params)
        value = float(plain(row[0][column]) or 0) if row else 0.0
        self.checks.append(TotalCheck(key, value))
        return value

    def history_reason(self, comparison: str) -> str | None:
        """Why a movement comparison is not available (history does not cover its start), or None."""
        for r in self.rows("comparisons"):
            if r["comparison_label"] == comparison:
                return None if r["is_available"] else str(r["unavailable_reason"])
        return f"not available: no {comparison} comparison in the KPI build (kpis.yaml movement.comparisons)"

    @property
    def stage_entry_reason(self) -> str | None:
        """Why days in stage / close-date pushes cannot be told (no field history), or None."""
        if self.info.get("field_history_start") is not None:
            return None
        return (
            f"not available: history starts {self.info.get('history_start')} (needs field history: the day "
            "each deal entered its stage and how often its close date moved; the source has not delivered it)"
        )

    @property
    def scope_label(self) -> str:
        return self.info.get("scope_label") or self.scope_value

    @property
    def max_rows(self) -> int:
        return self.spec.max_rows_html


def _first(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    for r in rows:
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return {}


def _sum(rows: list[dict[str, Any]], key: str) -> float:
    return float(sum(plain(r.get(key)) or 0 for r in rows))


def _metric_target(name: str) -> float | None:
    from salesops.kpis.registry import get_metric

    t = get_metric(name).target
    return None if t is None else t.value


def _team_breakdown(ctx: BuildContext, quarter: str) -> tuple[list[str], list[float | None]]:
    """Coverage per team (all / region packs) or per rep (team / owner packs) for the chart."""
    if ctx.scope_type in ("all", "region"):
        labels, ratios = [], []
        for team in [r["team"] for r in ctx.rows("teams_in_scope")]:
            row = _first(ctx.rows("coverage", scope=("team", team)), quarter_relative=quarter)
            labels.append(team)
            ratios.append(row.get("coverage_ratio"))
        return labels, ratios
    reps = ctx.rows("coverage_by_rep", quarter_relative=quarter)
    return [r["owner_name"] for r in reps], [r["coverage_ratio"] for r in reps]


def _coverage_section(ctx: BuildContext, sid: str, title: str, quarter: str) -> Section:
    sec = Section(sid, title, probe="opportunities")
    cov = _first(ctx.rows("coverage"), quarter_relative=quarter)
    target = plain(cov.get("coverage_target_ratio"))
    q = cov.get("fiscal_quarter", "")
    sec.cards += [
        Card(
            f"{sid}.open_pipeline_amount",
            f"Open pipeline closing {q}",
            cov.get("open_pipeline_amount"),
            "currency",
            "metric:open_pipeline_amount",
        ),
        Card(
            f"{sid}.open_pipeline_count",
            f"Open deals closing {q}",
            cov.get("open_pipeline_count"),
            "count",
            "metric:open_pipeline_amount",
        ),
        Card(
            f"{sid}.quota_amount",
            f"Quota {q}",
            cov.get("quota_amount"),
            "currency",
            "metric:pipeline_coverage_ratio",
        ),
        Card(
            f"{sid}.coverage_ratio",
            f"Coverage {q}",
            cov.get("coverage_ratio"),
            "multiple",
            "metric:pipeline_coverage_ratio",
            target,
            None if cov.get("coverage_ratio") is None or target is None else cov["coverage_ratio"] >= target,
        ),
        Card(
            f"{sid}.coverage_of_remaining_ratio",
            f"Coverage of remaining quota {q}",
            cov.get("coverage_of_remaining_ratio"),
            "multiple",
            "metric:pipeline_coverage_of_remaining_ratio",
            target,
        ),
    ]
    if quarter == "current":
        nxt = _first(ctx.rows("coverage"), quarter_relative="next")
        sec.cards.append(
            Card(
                f"{sid}.next_coverage_ratio",
                f"Coverage {nxt.get('fiscal_quarter', '')} (next)",
                nxt.get("coverage_ratio"),
                "multiple",
                "metric:pipeline_coverage_ratio",
                target,
            )
        )
    ctx.check(
        f"{sid}.open_pipeline_amount", "open_pipeline", "open_pipeline_amount", quarter_relative=quarter
    )
    ctx.check(f"{sid}.open_pipeline_count", "open_pipeline", "open_pipeline_count", quarter_relative=quarter)
    labels, ratios = _team_breakdown(ctx, quarter)
    if labels:
        by = "team" if ctx.scope_type in ("all", "region") else "rep"
        sec.charts.append(
            Chart(
                f"Coverage by {by}, {q}",
                drawing=ctx.chart(charts.coverage_bars, labels, ratios, target, f"Coverage by {by}, {q}"),
            )
        )
    reps = ctx.rows("coverage_by_rep", quarter_relative=quarter)
    sec.tables.append(
        Table(
            f"Coverage by rep, {q} (lowest first)",
            [
                Column("owner_name", "Rep"),
                Column("team", "Team"),
                Column("quota_amount", "Quota", "currency"),
                Column("open_pipeline_amount", "Open pipeline", "currency"),
                Column("open_pipeline_count", "Deals", "count"),
                Column("closed_won_amount", "Closed won", "currency"),
                Column("coverage_ratio", "Coverage", "multiple"),
            ],
            reps,
            sheet=f"Coverage {quarter}",
            ref="metric:pipeline_coverage_ratio",
        )
    )
    sec.facts.update(coverage=cov.get("coverage_ratio"), coverage_target=target, quarter=q)
    return sec


def build_coverage(ctx: BuildContext) -> Section:
    return _coverage_section(ctx, "coverage", "Coverage vs target", "current")


def build_next_quarter_coverage(ctx: BuildContext) -> Section:
    return _coverage_section(ctx, "next_quarter_coverage", "Next-quarter coverage", "next")


def _unavailable(sec: Section, reason: str | None) -> bool:
    """Mark ``sec`` not available (no numbers; the pack and the narrative say why)."""
    if reason:
        sec.unavailable = reason
        sec.facts["unavailable"] = reason
    return bool(reason)


def _movement(ctx: BuildContext, comparison: str) -> list[dict[str, Any]]:
    return ctx.rows("movement", comparison=comparison)


def build_new_pipeline(ctx: BuildContext) -> Section:
    sec = Section("new_pipeline", "New pipeline", probe="opportunities")
    created = ctx.rows("new_pipeline")[0]
    wow_na = ctx.history_reason("week_over_week")
    new = {} if wow_na else _first(_movement(ctx, "week_over_week"), step="new")
    if wow_na:
        sec.notes.append(f"New this week: {wow_na}")
    q = created.get("fiscal_quarter")
    sec.cards += [
        Card(
            "new_pipeline.created_amount",
            f"Pipeline created in {q}",
            created.get("pipeline_created_amount"),
            "currency",
            "metric:pipeline_created_amount",
        ),
        Card(
            "new_pipeline.created_count",
            f"Opportunities created in {q}",
            created.get("pipeline_created_count"),
            "count",
            "metric:pipeline_created_amount",
        ),
        Card(
            "new_pipeline.new_wow_amount",
            "New this week (current-quarter pipeline)",
            new.get("amount"),
            "currency",
            "def:new_pipeline_wow",
        ),
        Card(
            "new_pipeline.new_wow_count",
            "New deals this week",
            new.get("opportunity_count"),
            "count",
            "def:new_pipeline_wow",
        ),
    ]
    deals = [
        d
        for d in ([] if wow_na else ctx.rows("movement_deals", comparison="week_over_week"))
        if d["movement_category"] == "new"
    ]
    sec.tables.append(
        Table(
            "Deals created this week",
            [
                Column("opportunity_id", "Id"),
                Column("opportunity_name", "Opportunity"),
                Column("owner_name", "Owner"),
                Column("end_stage_name", "Stage"),
                Column("end_close_date", "Close date", "date"),
                Column("end_pipeline_amount", "Amount", "currency"),
            ],
            deals,
            sheet="New this week",
            ref="def:new_pipeline_wow",
        )
    )
    return sec


def build_movement(ctx: BuildContext) -> Section:
    sec = Section("movement", "Pipeline movement, week over week", probe="opportunities")
    if _unavailable(sec, ctx.history_reason("week_over_week")):
        return sec
    steps = _movement(ctx, "week_over_week")
    start, end = _first(steps, step="starting_pipeline"), _first(steps, step="ending_pipeline")
    change = (end.get("amount") or 0) - (start.get("amount") or 0)
    pct = change / start["amount"] if start.get("amount") else None
    window = start.get("window_label", "")
    sec.cards += [
        Card(
            "movement.starting_amount",
            f"{window} pipeline on {start.get('start_date')}",
            start.get("amount"),
            "currency",
            "metric:pipeline_movement_amount",
        ),
        Card(
            "movement.ending_amount",
            f"{window} pipeline on {start.get('end_date')}",
            end.get("amount"),
            "currency",
            "metric:pipeline_movement_amount",
        ),
        Card(
            "movement.change_amount", "Change week over week", change, "currency", "def:pipeline_wow_change"
        ),
        Card("movement.change_ratio", "Change week over week (%)", pct, "ratio", "def:pipeline_wow_change"),
    ]
    ctx.check("movement.starting_amount", "window_pipeline", "starting_amount", comparison="week_over_week")
    ctx.check("movement.ending_amount", "window_pipeline", "ending_amount", comparison="week_over_week")
    flows = [s for s in steps if s["is_flow"] or s["step"] in ("starting_pipeline", "ending_pipeline")]
    shown = [
        s for s in flows if s["step"] in ("starting_pipeline", "ending_pipeline") or s["opportunity_count"]
    ]
    sec.charts.append(
        Chart(
            "Movement waterfall",
            drawing=ctx.chart(
                charts.waterfall,
                [(STEP_LABELS[s["step"]], float(s["amount"] or 0), not s["is_flow"]) for s in shown],
                f"{ctx.scope_label}: {window} pipeline, {start.get('start_date')} to {start.get('end_date')}",
            ),
        )
    )
    table_rows = [
        {
            "step": STEP_LABELS[s["step"]],
            "opportunity_count": s["opportunity_count"],
            "amount": s["amount"],
            "kind": "flow" if s["is_flow"] else ("total" if s["step"].endswith("pipeline") else "info"),
        }
        for s in steps
    ]
    sec.tables.append(
        Table(
            "Waterfall steps",
            [
                Column("step", "Step"),
                Column("kind", "Kind"),
                Column("opportunity_count", "Deals", "count"),
                Column("amount", "Amount", "currency"),
            ],
            table_rows,
            sheet="Movement",
            ref="metric:pipeline_movement_amount",
            max_rows_html=20,
        )
    )
    deals = ctx.rows("movement_deals", comparison="week_over_week")
    sec.facts.update(
        start=start.get("amount"),
        end=end.get("amount"),
        change=change,
        pct=pct,
        window=window,
        flows={s["step"]: (s["opportunity_count"], s["amount"]) for s in steps if s["is_flow"]},
        deals=deals,
    )
    return sec


def build_stage_aging(ctx: BuildContext) -> Section:
    sec = Section("stage_aging", "Stage aging", probe="open_opportunities")
    if _unavailable(sec, ctx.stage_entry_reason):
        return sec
    rows = ctx.rows("stage_aging")
    sec.tables.append(
        Table(
            "Open deals by current stage",
            [
                Column("stage_name", "Stage"),
                Column("open_count", "Deals", "count"),
                Column("open_amount", "Amount", "currency"),
                Column("avg_days_in_current_stage", "Avg days in stage", "days"),
                Column("max_days_in_current_stage", "Max days in stage", "days"),
            ],
            rows,
            ref="metric:avg_days_in_current_stage",
        )
    )
    return sec


def build_close_date_integrity(ctx: BuildContext) -> Section:
    sec = Section("close_date_integrity", "Close-date integrity", probe="open_opportunities")
    risk = ctx.rows("risk_summary")[0]
    wow_na = ctx.history_reason("week_over_week")
    deals = [
        d
        for d in ([] if wow_na else ctx.rows("movement_deals", comparison="week_over_week"))
        if d["movement_category"] in ("pushed", "slipped", "moved_out_other")
    ]
    pushed = [d for d in deals if d["movement_category"] in ("pushed", "slipped")]
    for reason in dict.fromkeys(r for r in (ctx.stage_entry_reason, wow_na) if r):
        sec.notes.append(reason)
    sec.cards += [
        Card(
            "close_date_integrity.past_close_date_count",
            "Open deals past their close date",
            risk["past_close_date_count"],
            "count",
            "def:past_close_date_count",
        ),
        Card(
            "close_date_integrity.pushed_repeatedly_count",
            "Deals pushed repeatedly",
            None if ctx.stage_entry_reason else risk["pushed_repeatedly_count"],
            "count",
            "def:pushed_repeatedly_count",
        ),
        Card(
            "close_date_integrity.pushed_wow_count",
            "Pushed / slipped out of the quarter this week",
            None if wow_na else len(pushed),
            "count",
            "def:pushed_slipped_wow",
        ),
        Card(
            "close_date_integrity.pushed_wow_amount",
            "Amount pushed / slipped this week",
            None if wow_na else -_sum(pushed, "amount_change"),
            "currency",
            "def:pushed_slipped_wow",
        ),
    ]
    sec.tables.append(
        Table(
            "Close dates moved out of the quarter this week",
            [
                Column("opportunity_id", "Id"),
                Column("opportunity_name", "Opportunity"),
                Column("owner_name", "Owner"),
                Column("movement_category", "Movement"),
                Column("start_close_date", "Close date was", "date"),
                Column("end_close_date", "Close date now", "date"),
                Column("start_pipeline_amount", "Amount", "currency"),
            ],
            deals,
            sheet="Pushed this week",
            ref="def:pushed_slipped_wow",
        )
    )
    return sec


def build_at_risk_deals(ctx: BuildContext) -> Section:
    sec = Section("at_risk_deals", "At-risk deals", probe="open_opportunities")
    risk = ctx.rows("risk_summary")[0]
    share = risk["at_risk_amount"] / risk["open_amount"] if risk["open_amount"] else None
    sec.cards += [
        Card(
            "at_risk_deals.at_risk_count",
            "At-risk deals",
            risk["at_risk_count"],
            "count",
            "metric:at_risk_opportunity_count",
        ),
        Card(
            "at_risk_deals.at_risk_amount",
            "At-risk amount",
            risk["at_risk_amount"],
            "currency",
            "metric:at_risk_share_of_amount",
        ),
        Card(
            "at_risk_deals.at_risk_share",
            "At-risk share of open pipeline",
            share,
            "ratio",
            "metric:at_risk_share_of_amount",
        ),
    ]
    ctx.check("at_risk_deals.at_risk_count", "at_risk", "at_risk_count")
    ctx.check("at_risk_deals.at_risk_amount", "at_risk", "at_risk_amount")
    rows = ctx.rows("at_risk_deals")
    for r in rows:
        r["reasons"] = ", ".join(
            name
            for flag, name in (
                ("is_past_close_date", "past close date"),
                ("is_pushed_repeatedly", "pushed repeatedly"),
                ("is_inactive", "inactive"),
                ("is_large_early_late", "large & early"),
            )
            if r.get(flag)
        )
    sec.tables.append(
        Table(
            "At-risk deals (largest first)",
            [
                Column("opportunity_id", "Id"),
                Column("opportunity_name", "Opportunity"),
                Column("owner_name", "Owner"),
                Column("team", "Team"),
                Column("stage_name", "Stage"),
                Column("amount", "Amount", "currency"),
                Column("close_date", "Close date", "date"),
                Column("last_activity_date", "Last activity", "date"),
                Column("push_count", "Pushes", "count"),
                Column("reasons", "Why at risk"),
            ],
            rows,
            sheet="At-risk deals",
            ref="metric:at_risk_opportunity_count",
        )
    )
    sec.facts.update(
        at_risk_count=risk["at_risk_count"], at_risk_amount=risk["at_risk_amount"], at_risk_share=share
    )
    return sec


def build_top_deals(ctx: BuildContext) -> Section:
    sec = Section("top_deals", "Top deals this quarter", probe="open_opportunities")
    rows = ctx.rows("top_deals", row_limit=max(ctx.max_rows, 10))
    sec.tables.append(
        Table(
            f"Largest open deals closing in {ctx.info.get('current_fiscal_quarter_label')}",
            [
                Column("opportunity_id", "Id"),
                Column("opportunity_name", "Opportunity"),
                Column("owner_name", "Owner"),
                Column("stage_name", "Stage"),
                Column("forecast_category", "Forecast"),
                Column("amount", "Amount", "currency"),
                Column("close_date", "Close date", "date"),
                Column("is_at_risk", "At risk", "bool"),
            ],
            rows,
            sheet="Top deals",
            ref="def:top_deal",
        )
    )
    return sec


def _categories() -> list[str]:
    from salesops.config import policy
    from salesops.kpis.policy import snake

    return [snake(c) for c in policy("stages")["forecast_categories"]]


def build_forecast_rollup(ctx: BuildContext) -> Section:
    sec = Section("forecast_rollup", "Forecast rollup", probe="opportunities")
    cats = _categories()
    rows = ctx.rows("forecast_rollup", jinja={"categories": cats})
    cur = _first(rows, quarter_relative="current")
    q = cur.get("fiscal_quarter")
    sec.cards += [
        Card(
            "forecast_rollup.commit_forecast_amount",
            f"Commit forecast {q}",
            cur.get("commit_forecast_amount"),
            "currency",
            "metric:commit_forecast_amount",
        ),
        Card(
            "forecast_rollup.best_case_forecast_amount",
            f"Best-case forecast {q}",
            cur.get("best_case_forecast_amount"),
            "currency",
            "metric:best_case_forecast_amount",
        ),
        Card(
            "forecast_rollup.weighted_pipeline_amount",
            f"Weighted forecast {q}",
            cur.get("weighted_pipeline_amount"),
            "currency",
            "metric:weighted_forecast_amount",
        ),
        Card(
            "forecast_rollup.closed_amount",
            f"Closed won {q}",
            cur.get("closed_amount"),
            "currency",
            "metric:commit_forecast_amount",
        ),
    ]
    ctx.check("forecast_rollup.commit_forecast_amount", "commit_forecast", "commit_forecast_amount")
    cols = [Column("fiscal_quarter", "Quarter")] + [
        Column(f"{c}_amount", c.replace("_", " ").title(), "currency") for c in cats
    ]
    cols += [
        Column("commit_forecast_amount", "Commit forecast", "currency"),
        Column("best_case_forecast_amount", "Best-case forecast", "currency"),
        Column("weighted_pipeline_amount", "Weighted", "currency"),
    ]
    sec.tables.append(
        Table(
            "Amount by forecast category",
            cols,
            rows,
            sheet="Forecast rollup",
            ref="metric:commit_forecast_amount",
        )
    )
    sec.facts.update(commit=cur.get("commit_forecast_amount"), quarter=q)
    return sec


def build_forecast_changes(ctx: BuildContext) -> Section:
    sec = Section("forecast_changes", "Commit / best case, week over week", probe="open_opportunities")
    if _unavailable(sec, ctx.history_reason("week_over_week")):
        return sec
    rows = ctx.rows("forecast_changes")
    for cat in ("Commit", "Best Case"):
        r = _first(rows, forecast_category=cat)
        key = cat.lower().replace(" ", "_")
        sec.cards.append(
            Card(
                f"forecast_changes.{key}_change",
                f"Open {cat} change WoW",
                r.get("change_amount", 0),
                "currency",
                "def:forecast_category_wow",
            )
        )
        sec.facts[f"{key}_change"] = r.get("change_amount", 0)
        sec.facts[f"{key}_start"] = r.get("start_amount", 0)
    if rows:
        sec.charts.append(
            Chart(
                "Open amount by forecast category",
                drawing=ctx.chart(
                    charts.grouped_bars,
                    [r["forecast_category"] for r in rows],
                    {
                        str(rows[0]["start_date"]): [r["start_amount"] for r in rows],
                        str(rows[0]["end_date"]): [r["end_amount"] for r in rows],
                    },
                    f"Open amount by forecast category, {rows[0]['window_label']}",
                ),
            )
        )
    sec.tables.append(
        Table(
            "Open amount by forecast category (current quarter)",
            [
                Column("forecast_category", "Category"),
                Column("start_count", "Deals a week ago", "count"),
                Column("start_amount", "Amount a week ago", "currency"),
                Column("end_count", "Deals now", "count"),
                Column("end_amount", "Amount now", "currency"),
                Column("change_amount", "Change", "currency"),
            ],
            rows,
            ref="def:forecast_category_wow",
        )
    )
    return sec


def _scorecard_cards(ctx: BuildContext, sid: str, metrics: tuple[str, ...]) -> list[Card]:
    rows = ctx.rows("scorecard")
    out = []
    for m in metrics:
        r = _first(rows, metric=m)
        unit = "per_1000" if m.startswith("duplicates_per_1000") else "ratio"
        ref = (
            "def:routing_accuracy"
            if m == "routing_accuracy"
            else (
                "def:forecast_category_compliance" if m == "forecast_category" else "def:dq_scorecard_metric"
            )
        )
        out.append(
            Card(
                f"{sid}.{m}",
                m.replace("_", " ").capitalize(),
                r.get("value"),
                unit,
                ref,
                r.get("target"),
                r.get("met"),
                _na_reason(r),
            )
        )
    return out


def _na_reason(r: dict[str, Any]) -> str | None:
    """The scorecard row's "not evaluated" reason when it has no value (never shown as 0 or met)."""
    if r.get("value") is not None:
        return None
    reason = str(r.get("reason") or "").removeprefix("not evaluated - ")
    return reason or "no records in scope"


def _exception_columns() -> list[Column]:
    return [
        Column("check_id", "Check"),
        Column("object", "Object"),
        Column("record_id", "Record id"),
        Column("message", "Problem", pii="text"),  # wrong value and expected one, by field label
        Column("owner_name", "Owner"),
        Column("team", "Team"),
        Column("first_seen", "First seen", "datetime"),
        Column("age_days", "Age (days)", "count"),
    ]


def build_forecast_compliance(ctx: BuildContext) -> Section:
    sec = Section("forecast_compliance", "Forecast category compliance", probe="scorecard_rows")
    sec.cards += _scorecard_cards(ctx, "forecast_compliance", ("forecast_category", "pipeline_hygiene"))
    rows = ctx.rows("exceptions", jinja={"checks": ["opp_forecast_category_mismatch"]})
    sec.cards.append(
        Card(
            "forecast_compliance.mismatch_count",
            "Deals with a forecast category the stage does not allow",
            len(rows),
            "count",
            "def:forecast_category_compliance",
        )
    )
    ctx.check(
        "forecast_compliance.mismatch_count",
        "open_exceptions",
        "open_exceptions",
        jinja={"checks": ["opp_forecast_category_mismatch"]},
    )
    sec.tables.append(
        Table(
            "Forecast category mismatches",
            _exception_columns(),
            rows,
            sheet="Forecast mismatches",
            ref="def:open_exceptions",
        )
    )
    return sec


def build_missing_before_deadline(ctx: BuildContext) -> Section:
    sec = Section("missing_before_deadline", "Missing fields before the forecast deadline")
    rows = ctx.rows("missing_before_deadline")
    sec.cards.append(
        Card(
            "missing_before_deadline.deal_count",
            "Deals closing this quarter with missing fields",
            len({r["opportunity_id"] for r in rows}),
            "count",
            "def:missing_before_deadline",
        )
    )
    sec.tables.append(
        Table(
            "Fix before the forecast call",
            [
                Column("opportunity_id", "Id"),
                Column("opportunity_name", "Opportunity"),
                Column("owner_name", "Owner"),
                Column("stage_name", "Stage"),
                Column("amount", "Amount", "currency"),
                Column("close_date", "Close date", "date"),
                Column("check_id", "Missing"),
                Column("detail", "Detail", pii="text"),
            ],
            rows,
            sheet="Missing fields",
            ref="def:missing_before_deadline",
        )
    )
    return sec


def build_dq_scorecard(ctx: BuildContext) -> Section:
    sec = Section("dq_scorecard", "Data-quality scorecard", probe="scorecard_rows")
    rows = ctx.rows("scorecard")
    for r in rows:
        unit = "per_1000" if r["metric"].startswith("duplicates_per_1000") else "ratio"
        sec.cards.append(
            Card(
                f"dq_scorecard.{r['metric']}",
                r["metric"].replace("_", " ").capitalize(),
                r["value"],
                unit,
                "def:dq_scorecard_metric",
                r["target"],
                r["met"],
                _na_reason(r),
            )
        )
    for r in rows:
        if r["met"] is None:
            r["status"] = "n/a" if r["value"] is not None else f"n/a \u2014 {_na_reason(r)}"
        else:
            r["status"] = "met" if r["met"] else "MISSED"
    sec.tables.append(
        Table(
            "Scorecard (latest quality run)",
            [
                Column("metric", "Metric"),
                Column("value", "Value", "text"),
                Column("target", "Target", "text"),
                Column("comparator", "Rule"),
                Column("status", "Status"),
                Column("numerator", "Numerator", "count"),
                Column("denominator", "Denominator", "count"),
            ],
            [
                {
                    **r,
                    "value": _score_text(r["metric"], r["value"]),
                    "target": _score_text(r["metric"], r["target"]),
                }
                for r in rows
            ],
            sheet="Scorecard",
            ref="def:dq_scorecard_metric",
        )
    )
    trend = ctx.rows("scorecard_trend")
    if trend:
        xs = sorted({str(t["as_of"])[:10] for t in trend})
        series: dict[str, list[float | None]] = {}
        for t in trend:
            if t["metric"].startswith("duplicates_per_1000"):
                continue
            series.setdefault(t["metric"], [None] * len(xs))[xs.index(str(t["as_of"])[:10])] = t["value"]
        sec.charts.append(
            Chart(
                "Scorecard trend",
                drawing=ctx.chart(
                    charts.trend_lines, xs, series, "Scorecard trend (share of records passing)", percent=True
                ),
            )
        )
    sec.facts.update(missed=[r["metric"] for r in rows if r["met"] is False])
    return sec


def _score_text(metric: str, value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} per 1,000" if metric.startswith("duplicates_per_1000") else f"{value * 100:.1f} %"


def build_dq_exceptions_by_owner(ctx: BuildContext) -> Section:
    sec = Section("dq_exceptions_by_owner", "Open exceptions per owner", probe="exceptions")
    detail = ctx.rows("exceptions", jinja={"checks": []})
    sec.cards.append(
        Card(
            "dq_exceptions_by_owner.open_exceptions",
            "Open exceptions",
            len(detail),
            "count",
            "def:open_exceptions",
        )
    )
    ctx.check(
        "dq_exceptions_by_owner.open_exceptions", "open_exceptions", "open_exceptions", jinja={"checks": []}
    )
    by_owner = ctx.rows("exceptions_by_owner")
    sec.tables.append(
        Table(
            "What each owner must fix",
            [
                Column("owner_name", "Owner"),
                Column("team", "Team"),
                Column("check_id", "Check"),
                Column("open_count", "Open", "count"),
                Column("oldest_first_seen", "Oldest since", "datetime"),
            ],
            by_owner,
            sheet="By owner",
            ref="def:open_exceptions",
        )
    )
    sec.tables.append(
        Table(
            "Open exceptions (oldest first)",
            _exception_columns(),
            detail,
            sheet="Exceptions",
            ref="def:open_exceptions",
        )
    )
    sec.facts.update(open_exceptions=len(detail))
    return sec


def build_routing_sla(ctx: BuildContext) -> Section:
    sec = Section("routing_sla", "Routing SLA compliance", probe="leads")
    win = ctx.rows("routing_sla_window", jinja={"days": SLA_WINDOW_DAYS})[0]
    met, breached = float(win["sla_met_count"]), float(win["sla_breached_count"])
    rate = win["routing_sla_compliance_rate"]  # rules.sql routing_sla_compliance_rate
    target = _metric_target("routing_sla_compliance_rate")
    window = f"leads created in the last {SLA_WINDOW_DAYS} days"
    sec.cards += [
        Card(
            "routing_sla.compliance_rate",
            f"SLA compliance, {window}",
            rate,
            "ratio",
            "metric:routing_sla_compliance_rate",
            target,
            None if rate is None or target is None else rate >= target,
        ),
        Card(
            "routing_sla.sla_met_count",
            "Assigned within SLA",
            met,
            "count",
            "metric:routing_sla_compliance_rate",
        ),
        Card(
            "routing_sla.sla_breached_count",
            "Assigned late",
            breached,
            "count",
            "metric:routing_sla_compliance_rate",
        ),
        Card(
            "routing_sla.unassigned_breached_count",
            "Unassigned past SLA",
            win["unassigned_breached_count"],
            "count",
            "metric:routing_sla_compliance_rate",
        ),
    ]
    ctx.check("routing_sla.sla_met_count", "lead_sla", "sla_met_count", jinja={"days": SLA_WINDOW_DAYS})
    ctx.check(
        "routing_sla.sla_breached_count", "lead_sla", "sla_breached_count", jinja={"days": SLA_WINDOW_DAYS}
    )
    rows = ctx.rows("routing_sla", quarters=2)
    sec.tables.append(
        Table(
            "By quarter created and segment",
            [
                Column("created_fiscal_quarter", "Created in"),
                Column("segment", "Segment"),
                Column("sla_hours", "SLA (h)", "hours"),
                Column("lead_count", "Leads", "count"),
                Column("assigned_count", "Assigned", "count"),
                Column("avg_hours_to_assignment", "Avg to assign", "hours"),
                Column("sla_met_count", "Met", "count"),
                Column("sla_breached_count", "Breached", "count"),
                Column("unassigned_breached_count", "Unassigned past SLA", "count"),
                Column("routing_sla_compliance_rate", "Compliance", "ratio"),
            ],
            rows,
            sheet="SLA by segment",
            ref="metric:routing_sla_compliance_rate",
        )
    )
    sec.facts.update(rate=rate, target=target, window=window)
    return sec


def build_sla_trend(ctx: BuildContext) -> Section:
    sec = Section("sla_trend", "SLA over time", probe="leads")
    rows = ctx.rows("sla_weekly", jinja={"weeks": SLA_WEEKS})
    if rows:
        sec.charts.append(
            Chart(
                "Routing SLA by week",
                drawing=ctx.chart(
                    charts.trend_lines,
                    [str(r["week_start"]) for r in rows],
                    {"SLA compliance": [r["routing_sla_compliance_rate"] for r in rows]},
                    "Routing SLA compliance by week created",
                    percent=True,
                    target=_metric_target("routing_sla_compliance_rate"),
                ),
            )
        )
    sec.tables.append(
        Table(
            "By week created",
            [
                Column("week_start", "Week of", "date"),
                Column("lead_count", "Leads", "count"),
                Column("sla_met_count", "Met", "count"),
                Column("sla_breached_count", "Breached", "count"),
                Column("routing_sla_compliance_rate", "Compliance", "ratio"),
            ],
            rows,
            sheet="SLA by week",
            ref="def:sla_weekly",
            max_rows_html=SLA_WEEKS,
        )
    )
    return sec


def build_routing_accuracy(ctx: BuildContext) -> Section:
    sec = Section("routing_accuracy", "Routing accuracy", probe="scorecard_rows")
    sec.cards += _scorecard_cards(ctx, "routing_accuracy", ("routing_accuracy",))
    rows = ctx.rows("exceptions", jinja={"checks": ["lead_misrouted"]})
    sec.cards.append(
        Card(
            "routing_accuracy.misrouted_count",
            "Misrouted leads (open)",
            len(rows),
            "count",
            "def:open_exceptions",
        )
    )
    ctx.check(
        "routing_accuracy.misrouted_count",
        "open_exceptions",
        "open_exceptions",
        jinja={"checks": ["lead_misrouted"]},
    )
    sec.tables.append(
        Table("Misrouted leads", _exception_columns(), rows, sheet="Misrouted", ref="def:open_exceptions")
    )
    return sec


def build_unassigned_queue(ctx: BuildContext) -> Section:
    sec = Section("unassigned_queue", "Unassigned queue")
    rows = ctx.rows("unassigned_leads")
    sec.cards.append(
        Card(
            "unassigned_queue.unassigned_count",
            "Unassigned leads",
            len(rows),
            "count",
            "def:unassigned_leads",
        )
    )
    sec.tables.append(
        Table(
            "Unassigned leads (oldest first)",
            [
                Column("lead_id", "Lead id"),
                Column("company", "Company", pii="text"),
                Column("email", "Email", pii="email"),
                Column("phone", "Phone", pii="phone"),
                Column("region", "Region"),
                Column("segment", "Segment"),
                Column("routed_team", "Routes to"),
                Column("created_at", "Created", "datetime"),
                Column("hours_unassigned", "Hours unassigned", "hours"),
            ],
            rows,
            sheet="Unassigned leads",
            ref="def:unassigned_leads",
        )
    )
    return sec


def build_routing_exception_aging(ctx: BuildContext) -> Section:
    sec = Section("routing_exception_aging", "Routing exception aging")
    rows = ctx.rows("exceptions", jinja={"checks": list(ROUTING_CHECKS)})
    buckets = (("0-7 days", 0, 7), ("8-30 days", 8, 30), ("31-90 days", 31, 90), ("over 90 days", 91, 10**9))
    table = []
    for check in ROUTING_CHECKS:
        these = [r for r in rows if r["check_id"] == check]
        row = {"check_id": check, "open_count": len(these)}
        for label, lo, hi in buckets:
            row[label] = sum(1 for r in these if lo <= (r["age_days"] or 0) <= hi)
        table.append(row)
    sec.cards.append(
        Card(
            "routing_exception_aging.open_count",
            "Open routing exceptions",
            len(rows),
            "count",
            "def:open_exceptions",
        )
    )
    ctx.check(
        "routing_exception_aging.open_count",
        "open_exceptions",
        "open_exceptions",
        jinja={"checks": list(ROUTING_CHECKS)},
    )
    sec.tables.append(
        Table(
            "Open routing exceptions by age",
            [Column("check_id", "Check"), Column("open_count", "Open", "count")]
            + [Column(b[0], b[0], "count") for b in buckets],
            table,
            ref="def:open_exceptions",
        )
    )
    sec.tables.append(
        Table(
            "Routing exceptions (oldest first)",
            _exception_columns(),
            rows,
            sheet="Routing exceptions",
            ref="def:open_exceptions",
        )
    )
    return sec


def build_slippage(ctx: BuildContext) -> Section:
    sec = Section("slippage", "Slippage, quarter to date", probe="opportunities")
    if _unavailable(sec, ctx.history_reason("quarter_to_date")):
        return sec
    deals = [
        d
        for d in ctx.rows("movement_deals", comparison="quarter_to_date")
        if d["movement_category"] in ("pushed", "slipped")
    ]
    slipped = [d for d in deals if d["movement_category"] == "slipped"]
    sec.cards += [
        Card(
            "slippage.pushed_count",
            "Deals pushed or slipped out of the quarter",
            len(deals),
            "count",
            "def:slippage_qtd",
        ),
        Card(
            "slippage.pushed_amount",
            "Amount pushed or slipped",
            -_sum(deals, "amount_change"),
            "currency",
            "def:slippage_qtd",
        ),
        Card(
            "slippage.slipped_count",
            "Of which slipped (after the cutoff day)",
            len(slipped),
            "count",
            "metric:pipeline_movement_amount",
        ),
    ]
    sec.tables.append(
        Table(
            "Pushed / slipped deals, quarter to date",
            [
                Column("opportunity_id", "Id"),
                Column("opportunity_name", "Opportunity"),
                Column("owner_name", "Owner"),
                Column("movement_category", "Movement"),
                Column("start_close_date", "Close date was", "date"),
                Column("end_close_date", "Close date now", "date"),
                Column("close_date_moved_on", "Moved on", "date"),
                Column("start_pipeline_amount", "Amount", "currency"),
            ],
            deals,
            sheet="Slippage QTD",
            ref="def:slippage_qtd",
        )
    )
    sec.facts.update(pushed_count=len(deals), pushed_amount=-_sum(deals, "amount_change"))
    return sec


def build_cohort_conversion(ctx: BuildContext) -> Section:
    sec = Section("cohort_conversion", "Cohort conversion", probe="opportunities")
    rows = ctx.rows("cohort_conversion", quarters=HISTORY_QUARTERS)
    if rows:
        sec.charts.append(
            Chart(
                "Cohort win rate",
                drawing=ctx.chart(
                    charts.trend_lines,
                    [r["created_fiscal_quarter"] for r in rows],
                    {"cohort win rate": [r["cohort_win_rate"] for r in rows]},
                    "Win rate of opportunities by quarter created",
                    percent=True,
                ),
            )
        )
    sec.tables.append(
        Table(
            "Opportunities by quarter created",
            [
                Column("created_fiscal_quarter", "Created in"),
                Column("created_count", "Created", "count"),
                Column("created_amount", "Amount", "currency"),
                Column("won_count", "Won", "count"),
                Column("lost_count", "Lost", "count"),
                Column("open_count", "Still open", "count"),
                Column("cohort_win_rate", "Cohort win rate", "ratio"),
            ],
            rows,
            sheet="Cohorts",
            ref="def:opportunity_cohort",
        )
    )
    return sec


def build_win_loss_trend(ctx: BuildContext) -> Section:
    sec = Section("win_loss_trend", "Win / loss trend", probe="opportunities")
    rows = ctx.rows("win_loss_trend", quarters=HISTORY_QUARTERS)
    if rows:
        sec.charts.append(
            Chart(
                "Win rate trend",
                drawing=ctx.chart(
                    charts.trend_lines,
                    [r["close_fiscal_quarter"] for r in rows],
                    {
                        "by count": [r["win_rate_by_count"] for r in rows],
                        "by amount": [r["win_rate_by_amount"] for r in rows],
                    },
                    "Win rate by close quarter",
                    percent=True,
                ),
            )
        )
    cur = rows[-1] if rows else {}
    sec.cards += [
        Card(
            "win_loss_trend.win_rate_by_count",
            f"Win rate (count) {cur.get('close_fiscal_quarter', '')}",
            cur.get("win_rate_by_count"),
            "ratio",
            "metric:win_rate_by_count",
        ),
        Card(
            "win_loss_trend.win_rate_by_amount",
            f"Win rate (amount) {cur.get('close_fiscal_quarter', '')}",
            cur.get("win_rate_by_amount"),
            "ratio",
            "metric:win_rate_by_amount",
        ),
    ]
    sec.tables.append(
        Table(
            "Closed deals by quarter",
            [
                Column("close_fiscal_quarter", "Quarter"),
                Column("won_count", "Won", "count"),
                Column("lost_count", "Lost", "count"),
                Column("won_amount", "Won amount", "currency"),
                Column("lost_amount", "Lost amount", "currency"),
                Column("win_rate_by_count", "Win rate (count)", "ratio"),
                Column("win_rate_by_amount", "Win rate (amount)", "ratio"),
            ],
            rows,
            sheet="Win-loss",
            ref="metric:win_rate_by_count",
        )
    )
    return sec


def build_bookings_reconciliation(ctx: BuildContext) -> Section:
    sec = Section("bookings_reconciliation", "Bookings vs finance")
    if ctx.scope_type != "all":
        # Finance bookings carry no owner: a scoped pack would show other scopes' money.
        sec.notes.append("Company-wide reconciliation; not included in scoped packs.")
        return sec
    rows = ctx.rows("bookings_reconciliation", quarters=HISTORY_QUARTERS)
    cur = rows[-1] if rows else {}
    sec.cards += [
        Card(
            "bookings_reconciliation.crm_bookings_amount",
            f"CRM bookings {cur.get('period_label', '')}",
            cur.get("crm_bookings_amount"),
            "currency",
            "metric:bookings_amount",
        ),
        Card(
            "bookings_reconciliation.finance_bookings_amount",
            f"Finance bookings {cur.get('period_label', '')}",
            cur.get("finance_bookings_amount"),
            "currency",
            "metric:bookings_variance_amount",
        ),
        Card(
            "bookings_reconciliation.variance_amount",
            f"Variance {cur.get('period_label', '')}",
            cur.get("variance_amount"),
            "currency",
            "metric:bookings_variance_amount",
            0.0,
            None if cur.get("variance_amount") is None else cur["variance_amount"] == 0,
        ),
    ]
    crm = {r["period_label"]: r["crm_bookings_amount"] for r in ctx.rows("checks/crm_bookings")}
    ctx.checks.append(
        TotalCheck(
            "bookings_reconciliation.crm_bookings_amount", float(crm.get(cur.get("period_label"), 0) or 0)
        )
    )
    sec.tables.append(
        Table(
            "CRM vs finance by quarter",
            [
                Column("period_label", "Quarter"),
                Column("crm_bookings_count", "CRM deals", "count"),
                Column("crm_bookings_amount", "CRM bookings", "currency"),
                Column("finance_bookings_amount", "Finance bookings", "currency"),
                Column("variance_amount", "Variance", "currency"),
                Column("variance_pct", "Variance %", "ratio"),
                Column("crm_unmatched_count", "Won without booking", "count"),
                Column("finance_unmatched_count", "Bookings without deal", "count"),
            ],
            rows,
            sheet="Reconciliation",
            ref="metric:bookings_variance_amount",
        )
    )
    return sec


def build_open_anomalies(ctx: BuildContext) -> Section:
    """Open anomalies (issue 14) of the series monitoring.yaml assigns to this pack, in scope."""
    from salesops import policy
    from salesops.monitoring.alerts import fmt

    sec = Section("open_anomalies", "Open anomalies")
    series = policy.monitoring().packs.get(ctx.spec.name, [])
    if not series:
        sec.notes.append(
            f"Not available: include/config/monitoring.yaml packs names no series for {ctx.spec.name}."
        )
        return sec
    if not ctx.wh.table_exists("quality.anomaly"):
        sec.notes.append("Not available: monitoring has not run yet (kpi_transforms detect_anomalies).")
        return sec
    rows = ctx.rows("open_anomalies", jinja={"series": series})
    for r in rows:
        unit = r["unit"]
        r["scope"] = (
            "overall"
            if r["scope_type"] == "all"
            else f"{r['scope_type']} {r['owner_name'] or r['scope_value']}"
        )
        r["value_text"] = fmt(r["value"], unit)
        r["expected_text"] = (
            f"{fmt(r['expected'], unit)} ({fmt(r['lower_bound'], unit)} to {fmt(r['upper_bound'], unit)})"
        )
        r["score_text"] = fmt(r["score"], None)
    sec.cards.append(Card("open_anomalies.count", "Open anomalies", len(rows), "count", "def:open_anomalies"))
    sec.cards.append(
        Card(
            "open_anomalies.critical",
            "Critical",
            sum(r["severity"] == "critical" for r in rows),
            "count",
            "def:open_anomalies",
        )
    )
    sec.tables.append(
        Table(
            "Open anomalies (most severe first)",
            [
                Column("severity", "Severity"),
                Column("description", "Series"),
                Column("scope", "Scope"),
                Column("last_period_start", "Period from", "date"),
                Column("direction", "Direction"),
                Column("value_text", "Value"),
                Column("expected_text", "Expected (band)"),
                Column("score_text", "z"),
                Column("first_seen_at", "First seen (data time)", "datetime"),
                Column("likely_cause", "Likely cause"),
                Column("anomaly_id", "Id"),
            ],
            rows,
            sheet="Open anomalies",
            ref="def:open_anomalies",
        )
    )
    if not rows:
        sec.notes.append(f"No open anomaly on {', '.join(series)}.")
    return sec


SECTIONS: dict[str, Callable[[BuildContext], Section]] = {
    "coverage": build_coverage,
    "new_pipeline": build_new_pipeline,
    "movement": build_movement,
    "stage_aging": build_stage_aging,
    "close_date_integrity": build_close_date_integrity,
    "at_risk_deals": build_at_risk_deals,
    "top_deals": build_top_deals,
    "forecast_rollup": build_forecast_rollup,
    "forecast_changes": build_forecast_changes,
    "forecast_compliance": build_forecast_compliance,
    "missing_before_deadline": build_missing_before_deadline,
    "dq_scorecard": build_dq_scorecard,
    "dq_exceptions_by_owner": build_dq_exceptions_by_owner,
    "routing_sla": build_routing_sla,
    "sla_trend": build_sla_trend,
    "routing_accuracy": build_routing_accuracy,
    "unassigned_queue": build_unassigned_queue,
    "routing_exception_aging": build_routing_exception_aging,
    "next_quarter_coverage": build_next_quarter_coverage,
    "slippage": build_slippage,
    "cohort_conversion": build_cohort_conversion,
    "win_loss_trend": build_win_loss_trend,
    "bookings_reconciliation": build_bookings_reconciliation,
    "open_anomalies": build_open_anomalies,
}
