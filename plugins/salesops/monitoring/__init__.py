"""Monitoring the revenue engine (issue 14): anomaly detection on business series.

- :mod:`salesops.monitoring.detect` — scoring: series frames in, one result per scored point out
  (plain pandas on small aggregated frames; no warehouse).
- :mod:`salesops.monitoring.series` — runs the series SQL (``include/sql/monitoring/series``).
- :mod:`salesops.monitoring.store` — ``quality.anomaly_check`` (every scored point per run) and
  ``quality.anomaly`` (one row per anomaly episode: de-duplicated across runs, auto-resolving).
- :mod:`salesops.monitoring.alerts` — ticket drafts with evidence and the Slack / e-mail alerts.
- :mod:`salesops.monitoring.tasks` — the task body the ``kpi_transforms`` DAG calls.

Policy: ``include/config/monitoring.yaml`` (``salesops.policy.monitoring()``).
"""
