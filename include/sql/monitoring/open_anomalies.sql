-- Open anomalies, most severe first (packs, console, alerts).
select
    anomaly_id, series, description, scope_type, scope_value, grain, unit, period_start,
    last_period_start, value, expected, lower_bound, upper_bound, score, direction, severity,
    first_seen_at, last_seen_at, first_run_id, last_run_id, likely_cause, ticket_path, alerted_at
from quality.anomaly
where status = 'open'
order by case when severity = 'critical' then 0 else 1 end asc, abs(score) desc, series asc, scope_value asc
