"""Report packs: scoped, gated, delivered HTML / PDF / XLSX packs built from the KPI marts and the
quality results.

Modules:
    config     include/config/packs.yaml -> PackSpec (sections, audiences, schedule, channels, PII)
    sections   the section catalogue (each reads include/sql/packs/<dataset>.sql for one scope)
    render     render_pack(): HTML (inline CSS), PDF (WeasyPrint), XLSX (openpyxl), CSV, manifest
    checks     the publish gate: quality gate + the pack's own checks (totals, non-empty, fresh)
    deliver    email (SMTP connection), Slack, file drop (ObjectStoragePath), delivery log, holds
    tasks      the report_packs DAG's task bodies
"""
