-- The anomaly episodes a run may continue, resolve or re-open: every open one, and the resolved
-- ones recent enough for the run to score their period again (a re-run of an old as-of re-opens the
-- same episode, never a copy).
select * from quality.anomaly
where status = 'open' or period_start >= :since
