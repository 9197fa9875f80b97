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
