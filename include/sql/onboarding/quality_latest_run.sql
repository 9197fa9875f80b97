{#- The latest quality run (python -m salesops quality --json). -#}
select run_id, as_of, status, gate_passed, blockers_failed, warns_failed, gate_message, data_docs_path
from quality.run
order by started_at desc
limit 1
