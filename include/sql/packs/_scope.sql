{#- Row-level scoping of every pack dataset. Values are bind params (:scope_type, :scope_value);
    the macros only take the column expressions the scope is judged on. -#}
{%- macro scope_filter(region, team, owner) -%}
(:scope_type = 'all'
     or (:scope_type = 'region' and {{ region }} = :scope_value)
     or (:scope_type = 'team' and {{ team }} = :scope_value)
     or (:scope_type = 'owner' and {{ owner }} = :scope_value))
{%- endmacro -%}

{#- Rows of a by-rollup-level mart (rollup_level, rollup_key) that make up the scope: the company,
    region or rep row directly; a team (not a rollup level of kpis.yaml) as the sum of its reps'
    rows. `u` is the user joined on the rep row's rollup_key. -#}
{%- macro rollup_filter(t, u) -%}
((:scope_type = 'all' and {{ t }}.rollup_level = 'company')
     or (:scope_type = 'region' and {{ t }}.rollup_level = 'region' and {{ t }}.rollup_key = :scope_value)
     or (:scope_type = 'owner' and {{ t }}.rollup_level = 'rep' and {{ t }}.rollup_key = :scope_value)
     or (:scope_type = 'team' and {{ t }}.rollup_level = 'rep' and {{ u }}.team = :scope_value))
{%- endmacro -%}

{#- The speed-to-lead facts (marts.fct_lead_speed_to_lead) of the scope: region = the lead's region,
    team = its owner's team, owner = its owner. One definition for routing_sla, sla_weekly and
    routing_sla_window. -#}
{%- macro scoped_lead_speed() -%}
select f.*
    from marts.fct_lead_speed_to_lead as f
    left join staging.stg_crm__lead as l on l.id = f.lead_id
    left join staging.stg_crm__user as u on u.id = f.owner_id
    where {{ scope_filter('l.region', 'u.team', 'f.owner_id') }}
{%- endmacro -%}

{#- FROM and WHERE of the rows of a by-rollup-level mart `table` (alias `t`) that make up the scope
    (rollup_filter; a rep row's user joined as `u`). -#}
{%- macro scoped_rollup_rows(table, t) -%}
from {{ table }} as {{ t }}
    left join staging.stg_crm__user as u on u.id = {{ t }}.rollup_key and {{ t }}.rollup_level = 'rep'
    where {{ rollup_filter(t, 'u') }}
{%- endmacro -%}
