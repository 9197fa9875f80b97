"""The RevOps console: a FastAPI app served by Airflow's API server inside the UI (plugin
``plugins/revops_console.py``: ``fastapi_apps`` at ``/revops`` + ``external_views``).

Airflow does NOT authenticate plugin apps: every route here requires the UI's JWT (cookie
``_token`` or ``Authorization: Bearer``), validated by Airflow's auth manager, and applies the
packs' scoping (:func:`scope_for`). Pages are server-rendered Jinja (autoescape on) from
``include/templates/console``; every response forbids framing by other origins.

CRM values shown here (exception details, plan and change-log values, decision comments, errors)
go through the same masking as the plan outputs and packs (:func:`salesops.packs.security.mask_values`:
``j***@example.com``, ``***00``); the CSV download is also neutralised against formula injection.
Ids, field names, statuses and the links to the (masked) plan files stay as they are, so an
approver still reads which record and field change, from what to what, and who decided.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from salesops import paths
from salesops.console import links
from salesops.packs.security import mask_values, neutralise_cell

TokenValidator = Callable[[str], Awaitable[str]]
ALL_SCOPE_USERS_ENV = "SALESOPS_CONSOLE_ALL_SCOPE_USERS"
CSP = "frame-ancestors 'self'"
PACK_FILE_TYPES = {".html": "text/html", ".pdf": "application/pdf", ".xlsx": None, ".csv": "text/csv"}


@dataclass(frozen=True)
class Viewer:
    """The authenticated Airflow user and the slice of data they may see."""

    username: str
    scope_type: str | None  # all | region | team | owner | None (no data)
    scope_value: str | None = None

    @property
    def sees_all(self) -> bool:
        return self.scope_type == "all"


async def airflow_token_user(token: str) -> str:
    """The user name in a UI/API JWT, validated by Airflow's auth manager (signature, expiry,
    revocation)."""
    from airflow.api_fastapi.app import get_auth_manager

    user = await get_auth_manager().get_user_from_token(token)
    return user.get_name()


def scope_for(username: str) -> Viewer:
    """The packs' scoping for a console user.

    A user whose name (or address) is a recipient of a pack audience gets that audience's slice:
    ``revops-demo`` (scope all) sees everything, ``manager-emea-mm`` the team EMEA-MM, ``leader-emea``
    the region EMEA. Users named in ``SALESOPS_CONSOLE_ALL_SCOPE_USERS`` (comma-separated; default
    ``admin``) see everything. Anyone else is signed in but sees no CRM data.
    """
    from salesops.packs.config import load_packs

    name = username.strip().lower()
    full = {u.strip().lower() for u in os.getenv(ALL_SCOPE_USERS_ENV, "admin").split(",") if u.strip()}
    if name in full:
        return Viewer(username, "all")
    for spec in load_packs().values():
        for aud in spec.audiences:
            for pattern in aud.recipients:
                local = pattern.split("@")[0].lower()
                if "{value}" not in local:
                    if name in (local, pattern.lower()):
                        return Viewer(username, "all" if aud.scope == "all" else None)
                    continue
                prefix, _, suffix = local.partition("{value}")
                if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix + suffix):
                    wanted = name[len(prefix) : len(name) - len(suffix)]
                    values = list(aud.values) if aud.values is not None else _scope_values(aud.scope)
                    for value in values:
                        if _recipient_slug(value) == wanted:
                            return Viewer(username, aud.scope, value)
    return Viewer(username, None)


def _recipient_slug(value: str) -> str:
    return str(value).lower().replace(" ", "-").replace("/", "-")


def _scope_values(scope: str) -> list[str]:
    column = {"region": "region", "team": "team", "owner": "id"}.get(scope)
    if not column:
        return []
    wh = _warehouse()
    if not wh.table_exists("staging.stg_crm__user"):
        return []
    return [str(v) for v in wh.query_file("packs/scope_values.sql", column=column)["scope_value"]]


def _warehouse():
    from salesops.warehouse.hook import WarehouseHook

    return WarehouseHook(os.getenv("SALESOPS_WAREHOUSE_CONN_ID", "salesops_warehouse")).warehouse


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.TEMPLATES_DIR / "console")),
        autoescape=True,  # CRM text (names, details, comments) is untrusted
        undefined=jinja2.StrictUndefined,
    )


def _page(name: str, viewer: Viewer, **ctx: Any) -> HTMLResponse:
    html = _templates().get_template(name).render(viewer=viewer, prefix=links.URL_PREFIX, **ctx)
    return HTMLResponse(html)


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _exceptions(viewer: Viewer, owner: str | None, team: str | None, check: str | None) -> list[dict]:
    if viewer.scope_type is None:
        return []
    wh = _warehouse()
    if not wh.table_exists("quality.exception_queue"):
        return []
    scope_column = (
        None
        if viewer.sees_all
        else {"team": "team", "region": "region", "owner": "owner_id"}[viewer.scope_type]
    )
    rows = wh.query_file(
        "console/open_exceptions.sql",
        {"scope_value": viewer.scope_value, "owner": owner, "team": team, "check_id": check},
        scope_column=scope_column,
    ).to_dict("records")
    return [mask_values(r) for r in rows]


def create_app(validate_token: TokenValidator = airflow_token_user) -> FastAPI:
    """The console app.

    Args:
        validate_token: turns a JWT into a user name or raises; Airflow's auth manager by default
            (tests pass their own).
    """
    app = FastAPI(title="RevOps console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.validate_token = validate_token

    @app.middleware("http")
    async def frame_policy(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    app.include_router(router)
    return app


async def viewer(request: Request) -> Viewer:
    """The authenticated viewer of a request (401 without a valid Airflow session)."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else request.cookies.get("_token")
    if not token:
        raise HTTPException(401, "sign in to Airflow first", headers={"WWW-Authenticate": "Bearer"})
    try:
        username = await request.app.state.validate_token(token)
    except Exception as exc:
        raise HTTPException(401, "invalid or expired Airflow session") from exc
    return scope_for(username)


router = APIRouter()
ViewerDep = Annotated[Viewer, Depends(viewer)]


def require_all(v: Viewer) -> None:
    if not v.sees_all:
        raise HTTPException(403, "bulk-update plans are visible to the RevOps team only")


@router.get("/", response_class=HTMLResponse)
def home(v: ViewerDep):
    return _page("home.html.j2", v)


@router.get("/exceptions", response_class=HTMLResponse)
def exceptions(v: ViewerDep, owner: str | None = None, team: str | None = None, check: str | None = None):
    rows = _exceptions(v, _blank(owner), _blank(team), _blank(check))
    return _page("exceptions.html.j2", v, rows=rows, owner=owner or "", team=team or "", check=check or "")


@router.get("/exceptions.csv")
def exceptions_csv(v: ViewerDep, owner: str | None = None, team: str | None = None, check: str | None = None):
    rows = _exceptions(v, _blank(owner), _blank(team), _blank(check))
    buf = io.StringIO()
    cols = [
        "check_id",
        "object",
        "record_id",
        "detail",
        "owner_id",
        "team",
        "region",
        "severity",
        "first_seen",
        "age_days",
    ]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: neutralise_cell(r.get(k)) for k in cols})
    return Response(
        buf.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="open_exceptions.csv"'},
    )


@router.get("/scorecard", response_class=HTMLResponse)
def scorecard(v: ViewerDep):
    rows: list[dict] = []
    if v.scope_type is not None:
        wh = _warehouse()
        if wh.table_exists("quality.scorecard"):
            rows = wh.query_file(
                "console/scorecard.sql",
                {"scope_type": v.scope_type, "scope_value": v.scope_value},
                scope_type=v.scope_type,
            ).to_dict("records")
    trend: dict[str, list[dict]] = {}
    for r in rows:
        trend.setdefault(f"{r['metric']} ({r['scope_type']} {r['scope_value']})", []).append(r)
    return _page("scorecard.html.j2", v, trend=trend)


@router.get("/anomalies", response_class=HTMLResponse)
def anomalies(v: ViewerDep):
    """Open anomalies of the business series (issue 14) in the viewer's scope."""
    from salesops import policy
    from salesops.monitoring.alerts import fmt

    rows: list[dict] = []
    ran = False
    if v.scope_type is not None:
        wh = _warehouse()
        ran = wh.table_exists("quality.anomaly")
        series = list(policy.monitoring().series)
        if ran and series:
            rows = wh.query_file(
                "packs/open_anomalies.sql",
                {"scope_type": v.scope_type, "scope_value": v.scope_value},
                series=series,
            ).to_dict("records")
    for r in rows:
        r["value_text"] = fmt(r["value"], r["unit"])
        r["expected_text"] = fmt(r["expected"], r["unit"])
        r["band_text"] = f"{fmt(r['lower_bound'], r['unit'])} to {fmt(r['upper_bound'], r['unit'])}"
        r["score_text"] = fmt(r["score"], None)
    return _page("anomalies.html.j2", v, rows=rows, ran=ran)


@router.get("/packs", response_class=HTMLResponse)
def packs(v: ViewerDep, pack: str | None = None, period: str | None = None):
    return _page("packs.html.j2", v, slices=_pack_slices(v, _blank(pack), _blank(period)))


@router.get("/packs/{pack}/{period}/{scope}/{filename}")
def pack_file(v: ViewerDep, pack: str, period: str, scope: str, filename: str):
    allowed = {(s["pack"], s["period"], s["scope"]) for s in _pack_slices(v, None, None)}
    if (pack, period, scope) not in allowed:
        raise HTTPException(404, "no such pack slice in your scope")
    path = paths.output_dir() / "packs" / pack / period / scope / filename
    if Path(filename).name != filename or Path(filename).suffix not in PACK_FILE_TYPES or not path.is_file():
        raise HTTPException(404, "no such file")
    inline = path.suffix == ".html"
    return FileResponse(
        path, filename=filename, content_disposition_type="inline" if inline else "attachment"
    )


@router.get("/plans", response_class=HTMLResponse)
def plans(v: ViewerDep):
    require_all(v)
    wh = _warehouse()
    rows = (
        wh.query_file("console/plans.sql").to_dict("records")
        if wh.table_exists("ops.bulk_update_plan")
        else []
    )
    shown = []
    for r in rows:
        masked = mask_values(r)  # links are built from the stored ids, the text shown is masked
        if r["status"] == "built" and r.get("dag_id") and r.get("run_id"):
            masked["required_actions"] = links.required_actions_url(r["dag_id"], r["run_id"], "ask_approval")
        shown.append(masked)
    return _page("plans.html.j2", v, rows=shown)


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan(v: ViewerDep, plan_id: str):
    require_all(v)
    from salesops.bulk_update import store

    wh = _warehouse()
    head = (
        store.query(wh, "select_plan.sql", {"plan_id": plan_id})
        if wh.table_exists("ops.bulk_update_plan")
        else []
    )
    if not head:
        raise HTTPException(404, f"no plan {plan_id}")
    decisions = mask_values(store.query(wh, "select_approvals.sql", {"plan_id": plan_id}))
    comments = {d["approver"]: d["comment"] for d in decisions if d["decision"] == "approve"}
    changes = mask_values(store.query(wh, "select_change_log.sql", {"plan_id": plan_id}))
    for c in changes:
        c["approval_comment"] = comments.get(c["approver"])
    return _page(
        "plan.html.j2",
        v,
        plan=mask_values(head[0]),
        decisions=decisions,
        changes=changes,
        files={k: links.plan_file_url(plan_id, k) for k in links.PLAN_FILES},
        required_actions=(
            links.required_actions_url(head[0]["dag_id"], head[0]["run_id"], "ask_approval")
            if head[0]["status"] == "built" and head[0].get("run_id")
            else None
        ),
    )


@router.get("/plans/{plan_id}/files/{kind}")
def plan_file(v: ViewerDep, plan_id: str, kind: str):
    require_all(v)
    from salesops.bulk_update.render import plan_dir

    if kind not in links.PLAN_FILES or Path(plan_id).name != plan_id:
        raise HTTPException(404, "no such file")
    path = plan_dir(plan_id) / links.PLAN_FILES[kind]
    if not path.is_file():
        raise HTTPException(404, f"plan {plan_id} has no {kind} file")
    return FileResponse(
        path,
        filename=f"{plan_id}_{path.name}",
        content_disposition_type="inline" if kind == "html" else "attachment",
    )


@router.get("/glossary", response_class=HTMLResponse)
def glossary(v: ViewerDep):
    from salesops.kpis.registry import load_registry

    return _page("glossary.html.j2", v, metrics=load_registry())


def _pack_slices(v: Viewer, pack: str | None, period: str | None) -> list[dict[str, Any]]:
    """Delivered pack slices under out/packs/<pack>/<period>/<scope_type>-<value>/ in the viewer's scope."""
    from salesops.packs.render import slug

    root = paths.output_dir() / "packs"
    if v.scope_type is None or not root.is_dir():
        return []
    mine = None if v.sees_all else f"{v.scope_type}-{slug(v.scope_value or '')}"
    out = []
    for scope_dir in sorted(root.glob("*/*/*")):
        p, per, scope = scope_dir.parts[-3:]
        if p in ("held", "_work") or not scope_dir.is_dir():
            continue
        if (mine and scope != mine) or (pack and p != pack) or (period and per != period):
            continue
        files = sorted(f.name for f in scope_dir.iterdir() if f.suffix in PACK_FILE_TYPES and f.is_file())
        out.append({"pack": p, "period": per, "scope": scope, "files": files})
    return sorted(out, key=lambda s: (s["period"], s["pack"], s["scope"]), reverse=True)
