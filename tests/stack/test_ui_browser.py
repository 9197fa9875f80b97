"""Every role's path through the Airflow UI in a real browser (issue 16).

Playwright drives Debian's chromium (``executable_path``; no browser download) against the shared
stack of tests/support/airflow_stack.py (PostgreSQL, Redis, api-server, scheduler, dag-processor,
triggerer, two Celery workers), after its one demo load (extract -> quality -> KPIs -> packs).
Only clicks and form fields: REST is used to wait for states and to read outcomes back.

- **requester** (operator) opens ``crm_bulk_update``'s trigger form: with every default the
  Trigger button is enabled; picks a plan type in the form and triggers; the run page opens.
- **requester** opens the approval their own run asks for and clicks Approve: the UI refuses
  ("Access Denied") and the request stays open.
- **approver** finds it in Required Actions, reads the plan (names, the field the rule used, the
  full-plan link through the console), approves with a comment: the demo CRM holds the planned
  values, the decision and every change-log row name the approver and the comment, the run note
  says APPLIED.
- **approver** rejects a second plan with a comment: nothing changes in the CRM, report_outcome is
  skipped and the run's note (shown on the run page) says REJECTED with the comment.
- **stakeholder** (``revops-demo``, a viewer, the packs' company-wide recipient) browses every
  RevOps console page inside the UI: pack archive (and opens a pack), scorecard, exception queue
  (filtered), plans with both decisions, glossary.
- the packs the load emailed reach the SMTP sink with every ``cid:`` chart resolving.

Screenshots go to ``SALESOPS_SCREENSHOT_DIR`` when set (``docs/img`` to refresh the README's), else
to the stack's folder.
"""

from __future__ import annotations

import os
import re
import time
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.browser]

CHROMIUM = os.getenv("SALESOPS_CHROMIUM", "/usr/bin/chromium")
DAG = "crm_bulk_update"
APPROVE_TYPE, APPROVE_FIELD = "move_past_close_dates", "CloseDate"
REJECT_TYPE = "fix_forecast_category"
STAKEHOLDER = os.getenv("SALESOPS_TEST_STAKEHOLDER", "revops-demo")
UI_TIMEOUT_MS = 60_000


# --- browser helpers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def shots(airflow_stack) -> Path:
    d = Path(os.getenv("SALESOPS_SCREENSHOT_DIR") or airflow_stack.root / "screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


def sign_in(browser, stack, user: str):
    """A fresh browser context signed in as ``user`` through the login form."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(UI_TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(stack.base_url + "/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", stack.passwords[user])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def screenshot(page, shots: Path, name: str) -> Path:
    """A small PNG (256 colours) of the page; asserted to exist and be an image."""
    from PIL import Image

    path = shots / f"ui_{name}.png"
    page.screenshot(path=str(path))
    with Image.open(path) as im:
        im.convert("RGB").quantize(colors=256).save(path, optimize=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def _pending(stack, run_id: str) -> list[dict]:
    return [d for d in stack.client("admin").hitl_details(DAG, run_id) if not d.get("response_received")]


def _approval_page(stack, run_id: str) -> str:
    return f"{stack.base_url}/dags/{DAG}/runs/{run_id}/tasks/ask_approval/required_actions"


def _note(stack, run_id: str, timeout: float = 60) -> str:
    """The run note the console plugin's listener writes when the run ends."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        note = stack.client("admin").dag_run(DAG, run_id).get("note") or ""
        if note:
            return note
        time.sleep(1)
    raise AssertionError(f"{run_id}: no run note within {timeout}s")


# --- the paths -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(airflow_stack):
    """The stack after its demo load; shared state between this module's ordered tests."""
    runs = airflow_stack.load_demo()
    assert runs["report_packs"]["state"] == "success", runs
    return {"stack": airflow_stack}


def test_requester_triggers_from_the_form_and_cannot_approve_their_own_plan(world, browser, shots):
    stack = world["stack"]
    api = stack.client("requester")
    page = sign_in(browser, stack, "requester")
    page.goto(f"{stack.base_url}/dags/{DAG}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    submit = dialog.get_by_role("button", name="Trigger", exact=True)
    # every param at its default: nothing required is empty, the form can be submitted as is
    assert submit.is_enabled()
    for label in ("plan_type", "reason", "approval_channel", "source_conn_id"):
        assert dialog.get_by_text(label, exact=True).is_visible(), label
    # pick the plan type in the form (a select), give a reason
    plan_type = dialog.locator("#element_plan_type")
    plan_type.get_by_role("combobox").fill(APPROVE_TYPE)
    page.get_by_role("option", name=APPROVE_TYPE, exact=True).click()
    assert plan_type.locator("input[name=element_plan_type]").input_value() == APPROVE_TYPE
    reason = "browser test: close dates in the past"
    dialog.locator("#element_reason").fill(reason)
    screenshot(page, shots, "trigger_form")
    before = {r["dag_run_id"] for r in api.dag_runs(DAG)}
    submit.click()
    page.wait_for_url(re.compile(rf"/dags/{DAG}/runs/.+"))
    [run] = [r for r in api.dag_runs(DAG) if r["dag_run_id"] not in before]
    run_id = run["dag_run_id"]
    assert page.url.endswith(run_id) or run_id.replace("+", "%2B").replace(":", "%3A") in page.url
    assert run["triggering_user_name"] == "requester"
    assert run["conf"]["plan_type"] == APPROVE_TYPE and run["conf"]["reason"] == reason
    assert run["conf"]["source_conn_id"] is None  # optional fields stay empty (issue 16 item 1)
    detail = api.wait_for_hitl(DAG, run_id)
    assert "requester" not in {u["id"] for u in detail["assigned_users"]}
    world["approve_run"] = run_id

    # the requester opens their own request and clicks Approve: refused, still pending
    page.goto(_approval_page(stack, run_id))
    page.get_by_role("button", name="Approve").wait_for()
    page.locator("#element_comment").fill("approving my own plan")
    with page.expect_response(lambda r: r.request.method == "PATCH" and "hitlDetails" in r.url) as resp:
        page.get_by_role("button", name="Approve").click()
    assert resp.value.status == 403
    page.get_by_text("Access Denied").wait_for()
    screenshot(page, shots, "requester_refused")
    assert len(_pending(stack, run_id)) == 1
    states = {t["task_id"]: t["state"] for t in api.task_instances(DAG, run_id)}
    assert states["ask_approval"] == "awaiting_input" and states["apply_plan"] is None, states
    page.context.close()


def test_approver_reads_the_plan_and_approves_with_a_comment(world, browser, shots):
    stack = world["stack"]
    run_id = world["approve_run"]
    wh, crm = stack.warehouse(), stack.demo_crm()
    [plan] = wh.query("select plan_id, status from ops.bulk_update_plan where run_id = :r", {"r": run_id})
    plan_id = plan["plan_id"]
    planned = {
        r["record_id"]: r["after_value"]
        for r in wh.query(
            "select record_id, after_value from ops.bulk_update_plan_row "
            "where plan_id = :p and role = 'change' and field = :f",
            {"p": plan_id, "f": APPROVE_FIELD},
        )
    }
    assert planned, "the demo has opportunities with close dates in the past"
    owner_name = wh.query(
        "select u.name from ops.bulk_update_plan_row r "
        "join staging.stg_crm__opportunity o on o.id = r.record_id "
        "join staging.stg_crm__user u on u.id = o.owner_id "
        "where r.plan_id = :p and r.role = 'change' order by r.record_id limit 1",
        {"p": plan_id},
    )[0]["name"]

    page = sign_in(browser, stack, "approver")
    page.goto(f"{stack.base_url}/required_actions")
    page.get_by_role("link", name=re.compile(f"Approve bulk update {plan_id}")).first.click()
    page.get_by_role("button", name="Approve").wait_for()
    body = page.locator("main").inner_text() if page.locator("main").count() else page.inner_text("body")
    for shown in (plan_id, APPROVE_TYPE, "requested by requester", owner_name, "StageName"):
        assert shown in body, shown
    full_plan = page.get_by_role("link", name="XLSX").first.get_attribute("href")
    assert full_plan.endswith(f"/revops/plans/{plan_id}/files/xlsx"), full_plan
    screenshot(page, shots, "approval_request")
    comment = "checked the sample: dates are stale"
    page.locator("#element_comment").fill(comment)
    with page.expect_response(lambda r: r.request.method == "PATCH" and "hitlDetails" in r.url) as resp:
        page.get_by_role("button", name="Approve").click()
    assert resp.value.status == 200, resp.value.text()
    page.context.close()

    done = stack.client("requester").wait_for_run(DAG, run_id, timeout=300)
    states = {t["task_id"]: t["state"] for t in stack.client("admin").task_instances(DAG, run_id)}
    assert done["state"] == "success" and states["apply_plan"] == "success", states
    assert states["report_outcome"] == "success", states
    # the CRM holds exactly the planned values; decision and change log name the approver and comment
    got = {
        r["Id"]: r[APPROVE_FIELD] for r in crm.get_records("Opportunity", sorted(planned), [APPROVE_FIELD])
    }
    assert got == planned
    assert wh.query("select status from ops.bulk_update_plan where plan_id = :p", {"p": plan_id}) == [
        {"status": "applied"}
    ]
    decisions = wh.query(
        "select approver, decision, comment from ops.bulk_update_approval where plan_id = :p", {"p": plan_id}
    )
    assert decisions == [{"approver": "approver", "decision": "approve", "comment": comment}]
    applied = wh.query(
        "select record_id, new_value, approver from ops.bulk_update_change_log "
        "where plan_id = :p and status = 'applied'",
        {"p": plan_id},
    )
    assert {r["record_id"]: r["new_value"] for r in applied} == planned
    assert {r["approver"] for r in applied} == {"approver"}
    assert _note(stack, run_id).startswith("APPLIED")
    world["approved_plan"], world["approve_comment"] = plan_id, comment


def test_approver_rejects_a_plan_and_nothing_changes(world, browser, shots):
    stack = world["stack"]
    crm = stack.demo_crm()
    run = stack.client("requester").trigger(DAG, {"plan_type": REJECT_TYPE, "reason": "browser test: reject"})
    run_id = run["dag_run_id"]
    stack.client("approver").wait_for_hitl(DAG, run_id)
    hashes = crm.table_hashes()
    page = sign_in(browser, stack, "approver")
    page.goto(_approval_page(stack, run_id))
    comment = "wrong quarter, rebuild after the forecast call"
    page.locator("#element_comment").fill(comment)
    with page.expect_response(lambda r: r.request.method == "PATCH" and "hitlDetails" in r.url) as resp:
        page.get_by_role("button", name="Reject").click()
    assert resp.value.status == 200, resp.value.text()
    stack.client("requester").wait_for_run(DAG, run_id, timeout=300)
    states = {t["task_id"]: t["state"] for t in stack.client("admin").task_instances(DAG, run_id)}
    assert states["apply_plan"] == "skipped" and states["report_outcome"] == "skipped", states
    assert crm.table_hashes() == hashes  # nothing written
    note = _note(stack, run_id)
    assert note.startswith("REJECTED by approver") and "Nothing was written" in note, note
    assert comment in note
    # the run page shows the outcome in words
    page.goto(f"{stack.base_url}/dags/{DAG}/runs/{run_id}")
    page.get_by_text(re.compile("REJECTED by approver")).first.wait_for()
    screenshot(page, shots, "rejected_run")
    [plan] = stack.warehouse().query(
        "select p.plan_id, p.status, a.approver, a.decision, a.comment from ops.bulk_update_plan p "
        "join ops.bulk_update_approval a using (plan_id) where p.run_id = :r",
        {"r": run_id},
    )
    assert (plan["status"], plan["approver"], plan["decision"], plan["comment"]) == (
        "rejected",
        "approver",
        "reject",
        comment,
    )
    world["rejected_plan"] = plan["plan_id"]
    page.context.close()


def test_stakeholder_browses_every_console_page(world, browser, shots):
    stack = world["stack"]
    wh = stack.warehouse()
    page = sign_in(browser, stack, STAKEHOLDER)

    def console(title: str):
        page.get_by_role("button", name="Browse").click()
        page.get_by_role("menuitem", name=f"RevOps: {title}").click()
        frame = page.frame_locator("iframe").first
        frame.locator("h1").first.wait_for()
        return frame

    # pack archive: the slices this load delivered, and one opened
    sent = wh.query(
        "select distinct pack, period from ops.pack_delivery_log where channel = 'file' and status = 'sent'"
    )
    assert sent
    frame = console("Pack archive")
    text = frame.locator("body").inner_text()
    assert f"signed in as {STAKEHOLDER}" in text
    for s in sent:
        assert s["pack"] in text and s["period"] in text, s
    screenshot(page, shots, "console_packs")
    weekly = next(s for s in sent if s["pack"] == "weekly_pipeline_inspection")
    name = f"weekly_pipeline_inspection__all-all__{weekly['period']}.html"
    with page.context.expect_page() as opened:
        frame.get_by_role("link", name=name).click(modifiers=["Control"])
    pack_page = opened.value
    pack_page.get_by_text("Weekly pipeline inspection: Company").wait_for()
    pack_page.close()

    # scorecard: every latest metric of the company scope
    frame = console("Data-quality scorecard")
    metrics = {
        r["metric"]
        for r in wh.query("select distinct metric from quality.scorecard where scope_type = 'all'")
    }
    text = frame.locator("body").inner_text()
    assert metrics and all(f"{m} (all" in text for m in metrics), metrics
    screenshot(page, shots, "console_scorecard")

    # exception queue, filtered by check
    [top] = wh.query(
        "select check_id, count(*) as n from quality.v_open_exceptions "
        "group by check_id order by n, check_id limit 1"
    )
    frame = console("Exception queue")
    frame.locator("input[name=check]").fill(top["check_id"])
    frame.get_by_role("button", name="Filter").click()
    frame.get_by_text(f"{top['n']} open exceptions.").wait_for()
    checks = set(frame.locator("table tr td:first-child").all_inner_texts())
    assert checks == {top["check_id"]}
    screenshot(page, shots, "console_exceptions")

    # plans: both decisions with their comments; the applied plan's change log names the approver
    frame = console("Bulk-update plans")
    rows = frame.locator("table tr")
    applied = rows.filter(has_text=world["approved_plan"]).inner_text()
    rejected = rows.filter(has_text=world["rejected_plan"]).inner_text()
    assert "applied" in applied and f"approve by approver: “{world['approve_comment']}”" in applied
    assert "rejected" in rejected and "reject by approver" in rejected
    frame.get_by_role("link", name=world["approved_plan"]).click()
    frame.get_by_text("Change log").wait_for()
    log_rows = frame.locator("table").nth(1).locator("tr").filter(has_text=APPROVE_FIELD)
    assert log_rows.count() > 0
    assert world["approve_comment"] in log_rows.first.inner_text()
    screenshot(page, shots, "console_plan")

    # glossary: every metric of the registry
    from salesops.kpis.registry import load_registry

    frame = console("Metric glossary")
    text = frame.locator("body").inner_text()
    names = list(load_registry())
    assert names and all(n in text for n in names)

    # every page the plugin puts in the Browse menu opens for the stakeholder, framed by the UI
    from revops_console import _PAGES

    for title, route in _PAGES:
        frame = console(title)
        assert f"signed in as {STAKEHOLDER}" in frame.locator("body").inner_text(), route
        assert page.url.endswith(f"/plugin/revops-{route}/revops/{route}"), page.url
    page.context.close()


def test_emailed_packs_show_their_charts_as_inline_parts(world):
    stack = world["stack"]
    mails = [message_from_bytes(m.raw, policy=email_policy.default) for m in stack.smtp.received()]
    packs = [
        m for m in mails if m.get_body(("html",)) and "report pack" in m.get_body(("html",)).get_content()
    ]
    assert packs, [m["Subject"] for m in mails]
    charts = 0
    for msg in packs:
        html = msg.get_body(("html",)).get_content()
        assert "data:image" not in html, msg["Subject"]
        cids = re.findall(r'<img src="cid:([^"]+)"', html)
        related = [p for p in msg.walk() if p.get_content_type() == "multipart/related"]
        inline = {
            p["Content-ID"].strip("<>")
            for r in related
            for p in r.iter_parts()
            if p.get_content_maintype() == "image"
        }
        assert set(cids) == inline, msg["Subject"]
        assert msg.get_body(("plain",)) is not None, msg["Subject"]
        charts += len(cids)
    assert charts > 0
