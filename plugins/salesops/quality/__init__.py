"""Data quality: policy-driven checks, exception queue, scorecard, ticket drafts and the gate.

Public API (what the DAG and other jobs call)::

    from salesops.quality.runner import run_quality        # one run: checks -> quality.* tables
    from salesops.quality.gate import evaluate_gate, enforce_gate, QualityGateFailed
    from salesops.quality.tickets import draft_tickets
    from salesops.quality.duplicates import find_duplicates
    from salesops.quality.catalogue import load_config      # include/config/quality.yaml, validated

Tables (schema ``quality``; created by include/sql/quality/create_tables.sql):

- ``quality.run``: one row per run (run_id, as_of, status running/checked/gate_passed/gate_failed,
  gate_passed, blockers_failed, warns_failed, gate_message, checks_run, data_docs_path).
- ``quality.check_result``: per run, check, object and scope (scope_type all/owner/team/region/
  segment/object/period, scope_value): evaluated, failed, rate = failed/evaluated, target (the
  highest failed rate at which the check passes), severity (blocker/warn), passed, value
  (duplicates per 1,000 records, hours behind for freshness, variance % for reconciliation).
- ``quality.run_exception``: every offending record of one run (check_id, object API name,
  record_id, detail, related_id, owner_id, manager_id, team, region, segment, severity).
- ``quality.exception_queue``: the running queue, one row per (check_id, object, record_id,
  detail): status open/resolved, first_seen/last_seen (as-of times), first/last run id,
  resolved_at/resolved_run_id. A record that no longer fails is resolved on the next run; one
  that fails again reopens with a new first_seen. ``quality.v_open_exceptions`` adds age_days.
- ``quality.scorecard``: per run, metric and scope (all/team/owner/region): numerator,
  denominator, value, target, comparator, met. Metrics and targets: quality.yaml ``scorecard``.
- ``quality.duplicate_cluster``: per run and object, each clustered record with its cluster id
  (= the original's id), is_original, match_kind and score.
- ``quality.ticket``: per run, the Markdown ticket drafts (also written to
  ``<output_dir>/quality/tickets/<run_id>/``).

Definitions: "as of" = max(until) of loaded batches in ops.load_audit (the source clock);
duplicates per 1,000 = duplicate records (cluster members other than the original) per 1,000
records of the object; the scorecard's "per 1,000 new leads" counts leads created in the last
``scorecard.new_lead_window_days`` days before as-of and the duplicates among them.
"""
