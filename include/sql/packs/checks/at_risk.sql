{#- Warehouse total for the pack check: at-risk count/amount of the scope from marts.agg_at_risk_pipeline
    (company / region / rep rows; a team = its reps' rows). -#}
{% import 'packs/_scope.sql' as s %}
select
    coalesce(sum(a.at_risk_count), 0) as at_risk_count,
    coalesce(sum(a.at_risk_amount), 0) as at_risk_amount,
    coalesce(sum(a.open_count), 0) as open_count
from marts.agg_at_risk_pipeline as a
left join staging.stg_crm__user as u on u.id = a.rollup_key and a.rollup_level = 'rep'
where {{ s.rollup_filter('a', 'u') }}
