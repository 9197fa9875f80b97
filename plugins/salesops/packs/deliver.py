"""Publish or hold a rendered pack, and keep the delivery log.

Channels:
    file   copies the pack to the file drop: ``<output_dir>/packs/<pack>/<period>/<scope>/`` by default,
           or ``<base_url>/<pack>/<period>/<scope>/`` through Airflow's ObjectStoragePath when
           ``SALESOPS_PACKS_BASE_URL`` (or ``base_url``) is set (s3://, gs://, file://...).
    email  one message per pack slice to its recipients through Airflow's SMTP connection
           (``SALESOPS_SMTP_CONN_ID``, default ``smtp_default``): HTML body with the charts as inline
           ``cid:`` parts, a plain-text alternative with the key figures, the PDF/XLSX attachments.
    slack  summary + link through the Slack webhook connection (``SALESOPS_SLACK_CONN_ID``, default
           ``slack_default``); skipped with a logged reason when the connection does not exist.

A pack that fails the gate is held instead: its files go to ``<output_dir>/packs/held/...``, the
reasons to ``ops.pack_hold`` and the delivery log, and the RevOps team gets a hold notice by email.
Every attempt is a row of ``ops.pack_delivery_log``; a re-run does not send a slice twice.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesops import paths
from salesops.packs.config import get_pack
from salesops.packs.render import slug

if TYPE_CHECKING:
    from salesops.packs.checks import GateStatus, PackCheckResult
    from salesops.packs.render import RenderedPack
    from salesops.warehouse.core import Warehouse

log = logging.getLogger(__name__)


def smtp_conn_id() -> str:
    return os.getenv("SALESOPS_SMTP_CONN_ID", "smtp_default")


def slack_conn_id() -> str:
    return os.getenv("SALESOPS_SLACK_CONN_ID", "slack_default")


def base_url() -> str | None:
    return os.getenv("SALESOPS_PACKS_BASE_URL") or None


@dataclass
class DeliveryResult:
    """What happened to one pack slice (JSON-friendly, for XCom and the log task)."""

    pack: str
    period: str
    scope_type: str
    scope_value: str
    published: bool
    held: bool
    reasons: list[str] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)  # recipient, channel, status, detail
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ensure_tables(wh: Warehouse) -> None:
    """Create ops.pack_delivery_log and ops.pack_hold (idempotent)."""
    wh.run_file("packs/create_tables.sql")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _ctx_time(rendered: RenderedPack, key: str) -> datetime | None:
    value = rendered.context.get(key)
    return datetime.fromisoformat(value) if value else None


class _Log:
    """Writes delivery-log rows for one slice and remembers them for the result."""

    def __init__(
        self, wh: Warehouse, rendered: RenderedPack, run_id: str | None, result: DeliveryResult
    ) -> None:
        spec = get_pack(rendered.pack)
        self.wh, self.r, self.run_id, self.result = wh, rendered, run_id, result
        self.as_of = _ctx_time(rendered, "as_of_ts")
        # Due = when the data was ready (the latest successful load finished, loader clock) plus the
        # pack's delivery window: the on-time KPI measures the reporting step, not the source's lag.
        ready = _ctx_time(rendered, "load_finished_at")
        self.due_at = None if ready is None else ready + timedelta(hours=spec.deliver_within_hours)

    def __call__(self, recipient: str, channel: str, status: str, detail: str | None = None) -> None:
        row = {
            "pack": self.r.pack,
            "period": self.r.period,
            "scope_type": self.r.scope_type,
            "scope_value": self.r.scope_value,
            "recipient": recipient,
            "channel": channel,
            "sent_at": _now(),
            "status": status,
            "detail": detail,
            "as_of": self.as_of,
            "due_at": self.due_at,
            "run_id": self.run_id,
        }
        self.wh.run_file("packs/insert_delivery.sql", row)
        self.result.attempts.append(
            {"recipient": recipient, "channel": channel, "status": status, "detail": detail}
        )
        log.info(
            "pack %s %s=%s %s -> %s via %s: %s %s",
            self.r.pack,
            self.r.scope_type,
            self.r.scope_value,
            self.r.period,
            recipient,
            channel,
            status,
            detail or "",
        )


def _slice_dir(root: Path, rendered: RenderedPack) -> Path:
    return root / rendered.pack / rendered.period / f"{rendered.scope_type}-{slug(rendered.scope_value)}"


def _copy_local(rendered: RenderedPack, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for src in rendered.files.values():
        shutil.copy2(src, dest / Path(src).name)
    return dest


def file_drop(rendered: RenderedPack, url: str | None = None) -> str:
    """Copy every file of the pack to the file drop; returns the folder's URL or path."""
    url = url if url is not None else base_url()
    if not url:
        return str(_copy_local(rendered, _slice_dir(paths.output_dir() / "packs", rendered)))
    from airflow.sdk import ObjectStoragePath

    dest = (
        ObjectStoragePath(url.rstrip("/"))
        / rendered.pack
        / rendered.period
        / f"{rendered.scope_type}-{slug(rendered.scope_value)}"
    )
    dest.mkdir(parents=True, exist_ok=True)
    for src in rendered.files.values():
        (dest / Path(src).name).write_bytes(Path(src).read_bytes())
    return str(dest)


def send_email(
    to: list[str],
    subject: str,
    html: str,
    files: list[str],
    conn_id: str | None = None,
    sender: str | None = None,
) -> None:
    """One HTML message with attachments through Airflow's SMTP connection (hold notices)."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id or smtp_conn_id()) as hook:
        hook.send_email_smtp(
            to=to,
            subject=subject,
            html_content=html,
            files=files or None,
            from_email=sender or hook.from_email,
        )


def pack_message(rendered: RenderedPack, to: list[str], subject: str, sender: str, attach: list[str]):
    """The pack email as a MIME tree email clients display with its charts::

        multipart/mixed
          multipart/alternative
            text/plain              key figures and what changed (images blocked / text clients)
            multipart/related
              text/html             charts as <img src="cid:..." alt="...">
              image/png ...         one inline part per chart, Content-ID = the cid
          application/pdf, ...      the pack's attachments

    Gmail and Outlook drop ``data:`` image URIs; ``cid:`` references to related parts are what they
    show. Renders without email parts (older manifests) fall back to the archive HTML.
    """
    import mimetypes
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, sender, ", ".join(to)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    parts = rendered.email or {}
    if parts:
        msg.set_content(Path(parts["text"]).read_text(encoding="utf-8"))
        msg.add_alternative(Path(parts["html"]).read_text(encoding="utf-8"), subtype="html")
        html_part = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html")
        for img in parts["images"]:
            html_part.add_related(
                Path(img["path"]).read_bytes(),
                "image",
                "png",
                cid=f"<{img['cid']}>",
                filename=Path(img["path"]).name,
                disposition="inline",
            )
    else:
        msg.set_content(Path(rendered.files["html"]).read_text(encoding="utf-8"), subtype="html")
    for f in attach:
        ctype = mimetypes.guess_type(f)[0] or "application/octet-stream"
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(Path(f).read_bytes(), maintype, subtype, filename=Path(f).name)
    return msg


def send_message(msg, conn_id: str | None = None) -> None:
    """Send a built message through Airflow's SMTP connection (login, TLS, timeout from it).

    SmtpHook's own ``send_email_smtp`` only builds multipart/mixed with ``application/*`` parts (no
    inline images), so the message is built here and sent with the hook's connected client, once:
    a retry after a partial failure could send the pack twice.
    """
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id or smtp_conn_id()) as hook:
        client = hook._smtp_client  # set by __enter__ (get_conn); the hook has no public accessor
        if client is None:
            raise RuntimeError(f"SMTP connection {hook.smtp_conn_id!r} did not open")
        client.send_message(msg)


def connection_exists(conn_id: str) -> bool:
    """Whether an Airflow connection is defined (env var, secrets backend or metadata DB)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True


def slack_text(rendered: RenderedPack, link: str | None) -> str:
    """The Slack summary: title, scope, as-of, the narrative and where the pack is."""
    lines = [
        f"*{rendered.title}* - {rendered.scope_label} ({rendered.period}), data as of {rendered.as_of} UTC"
    ]
    lines += [f"- {line}" for line in rendered.narrative]
    if link:
        lines.append(f"Full pack: {link}")
    return "\n".join(lines)


def _hold_notice(rendered: RenderedPack, reasons: list[str], held_dir: str) -> str:
    from html import escape

    items = "".join(f"<li>{escape(r)}</li>" for r in reasons)
    return (
        f"<p>The pack <b>{escape(rendered.title)}</b> for {escape(rendered.scope_type)} = "
        f"{escape(rendered.scope_label)} ({escape(rendered.period)}, data as of {escape(rendered.as_of)} UTC) "
        f"was <b>held</b> and not sent to {len(rendered.recipients)} recipient(s).</p><ul>{items}</ul>"
        f"<p>Held files: <code>{escape(held_dir)}</code></p>"
    )


def publish_or_hold(
    wh: Warehouse,
    rendered: RenderedPack,
    gate: GateStatus,
    checks: PackCheckResult,
    *,
    channels: list[str] | None = None,
    deliver: bool = True,
    run_id: str | None = None,
    url: str | None = None,
) -> DeliveryResult:
    """Deliver a checked pack on its channels, or hold it.

    Args:
        wh: the warehouse (delivery log tables).
        rendered: the rendered pack.
        gate / checks: the quality gate and the pack's own checks.
        channels: subset of the pack's channels to use (default all the pack's channels).
        deliver: False = dry run: log 'skipped' rows, send nothing (files still go to the file drop
            only when 'file' is among the channels and ``deliver`` is True).
        run_id: the Airflow run id, for the log.
        url: file-drop base URL (default ``SALESOPS_PACKS_BASE_URL``; none = the local folder).
    """
    spec = get_pack(rendered.pack)
    ensure_tables(wh)
    result = DeliveryResult(
        rendered.pack, rendered.period, rendered.scope_type, rendered.scope_value, published=False, held=False
    )
    write = _Log(wh, rendered, run_id, result)
    wanted = [c for c in spec.channels if channels is None or c in channels]
    reasons = ([] if gate.passed else [gate.reason]) + list(checks.failures)

    if reasons:
        _hold(wh, rendered, reasons, write, result, notify=deliver and "email" in wanted, run_id=run_id)
        return result

    done = _already_sent(wh, rendered)
    link = None
    if "file" in wanted:
        link = _publish_file(rendered, write, result, deliver=deliver, url=url)
    if "email" in wanted:
        _publish_email(rendered, write, done, deliver=deliver)
    if "slack" in wanted:
        _publish_slack(rendered, write, done, link, deliver=deliver)
    result.published = any(a["status"] == "sent" for a in result.attempts)
    return result


def _hold(
    wh: Warehouse,
    rendered: RenderedPack,
    reasons: list[str],
    write: _Log,
    result: DeliveryResult,
    *,
    notify: bool,
    run_id: str | None,
) -> None:
    """Hold the slice: files to the held folder, a row in ops.pack_hold and the log, and (when
    ``notify``) a hold notice to the RevOps team by email."""
    spec = get_pack(rendered.pack)
    held_dir = _copy_local(rendered, _slice_dir(paths.output_dir() / "packs" / "held", rendered))
    result.held, result.reasons, result.location = True, reasons, str(held_dir)
    wh.run_file(
        "packs/insert_hold.sql",
        {
            "pack": rendered.pack,
            "period": rendered.period,
            "scope_type": rendered.scope_type,
            "scope_value": rendered.scope_value,
            "held_at": _now(),
            "as_of": write.as_of,
            "reasons": "; ".join(reasons),
            "held_dir": str(held_dir),
            "run_id": run_id,
        },
    )
    write("-", "hold", "held", "; ".join(reasons))
    if not notify:
        return
    if not connection_exists(smtp_conn_id()):
        for addr in spec.revops_team:
            write(addr, "email", "skipped", f"hold notice: no SMTP connection {smtp_conn_id()!r} configured")
        return
    to = list(spec.revops_team)
    try:
        send_email(
            to,
            f"[HELD] {rendered.title} - {rendered.scope_label} - {rendered.period}",
            _hold_notice(rendered, reasons, str(held_dir)),
            [],
            sender=spec.sender,
        )
        for addr in to:
            write(addr, "email", "sent", "hold notice")
    except Exception as exc:  # the hold itself is recorded; the notice failing must not hide it
        for addr in to:
            write(addr, "email", "failed", f"hold notice: {type(exc).__name__}: {exc}")


def _already_sent(wh: Warehouse, rendered: RenderedPack) -> set[tuple[str, str]]:
    """(recipient, channel) pairs already sent for this slice and period (a re-run skips them)."""
    return {
        (r["recipient"], r["channel"])
        for r in wh.query_file(
            "packs/already_sent.sql",
            {
                "pack": rendered.pack,
                "period": rendered.period,
                "scope_type": rendered.scope_type,
                "scope_value": rendered.scope_value,
            },
        ).to_dict("records")
    }


def _publish_file(
    rendered: RenderedPack, write: _Log, result: DeliveryResult, *, deliver: bool, url: str | None
) -> str | None:
    """Copy the slice to the file drop; returns its link (None on a dry run or a failure)."""
    if not deliver:
        write("file-drop", "file", "skipped", "deliver=false (dry run)")
        return None
    link = None
    try:
        link = file_drop(rendered, url)
        result.location = link
        write(link, "file", "sent", f"{len(rendered.files)} files")
    except Exception as exc:
        write(url or "file-drop", "file", "failed", f"{type(exc).__name__}: {exc}")
    return link


def _publish_email(rendered: RenderedPack, write: _Log, done: set[tuple[str, str]], *, deliver: bool) -> None:
    """One message to the recipients not yet sent this period: HTML body + the configured attachments."""
    spec = get_pack(rendered.pack)
    to = [a for a in rendered.recipients if (a, "email") not in done]
    for a in rendered.recipients:
        if (a, "email") in done:
            write(a, "email", "skipped", "already sent for this period")
    if not rendered.recipients:
        write("-", "email", "skipped", f"no recipients for scope {rendered.scope_type} in packs.yaml")
        return
    if not to:
        return
    if not deliver:
        for a in to:
            write(a, "email", "skipped", "deliver=false (dry run)")
        return
    if not connection_exists(smtp_conn_id()):
        for a in to:
            write(a, "email", "skipped", f"no SMTP connection {smtp_conn_id()!r} configured")
        return
    attach = [rendered.files[k] for k in spec.attach if k in rendered.files]
    subject = f"{rendered.title} - {rendered.scope_label} - {rendered.period}"
    try:
        send_message(pack_message(rendered, to, subject, spec.sender, attach))
        for a in to:
            write(a, "email", "sent", f"attachments: {', '.join(Path(f).name for f in attach)}")
    except Exception as exc:
        for a in to:
            write(a, "email", "failed", f"{type(exc).__name__}: {exc}")


def _publish_slack(
    rendered: RenderedPack, write: _Log, done: set[tuple[str, str]], link: str | None, *, deliver: bool
) -> None:
    """The Slack summary with the file-drop link, once per slice and period."""
    conn = slack_conn_id()
    target = f"slack:{conn}"
    if (target, "slack") in done:
        write(target, "slack", "skipped", "already sent for this period")
    elif not connection_exists(conn):
        write(target, "slack", "skipped", f"no Slack connection {conn!r} configured")
    elif not deliver:
        write(target, "slack", "skipped", "deliver=false (dry run)")
    else:
        try:
            from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

            SlackWebhookHook(slack_webhook_conn_id=conn).send(text=slack_text(rendered, link))
            write(target, "slack", "sent", "summary + link")
        except Exception as exc:
            write(target, "slack", "failed", f"{type(exc).__name__}: {exc}")


def on_time_delivery(wh: Warehouse) -> list[dict[str, Any]]:
    """The on-time-delivery KPI per pack and period (include/sql/packs/on_time_delivery.sql)."""
    from salesops.packs.model import plain

    ensure_tables(wh)
    return [
        {k: plain(v) for k, v in r.items()}
        for r in wh.query_file("packs/on_time_delivery.sql").to_dict("records")
    ]
