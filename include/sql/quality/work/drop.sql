{#- The run's working tables are not kept (the results are in the quality tables). -#}
drop table if exists quality.work_outcome;
drop table if exists quality.work_population;
drop table if exists quality.work_population_count;
drop table if exists quality.work_exception;
drop table if exists quality.work_dup_found;
drop table if exists quality.work_not_evaluated;
{%- for t in batch_tables %}
drop {{ 'view' if t.endswith('__keys') else 'table' }} if exists {{ t }};
{%- endfor %}
{%- for v in batch_views or [] %}
drop view if exists {{ v }};
{%- endfor %}
