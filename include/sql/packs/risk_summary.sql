{#- At-risk and close-date integrity counts of the scope's open pipeline (marts.fct_open_opportunity_risk). -#}
{% import 'packs/_scope.sql' as s %}
select
    count(*) as open_count,
    coalesce(sum(coalesce(k.amount, 0)), 0) as open_amount,
    coalesce(sum(case when k.is_at_risk then 1 else 0 end), 0) as at_risk_count,
    coalesce(sum(case when k.is_at_risk then coalesce(k.amount, 0) else 0 end), 0) as at_risk_amount,
    coalesce(sum(case when k.is_past_close_date then 1 else 0 end), 0) as past_close_date_count,
    coalesce(sum(case when k.is_pushed_repeatedly then 1 else 0 end), 0) as pushed_repeatedly_count,
    coalesce(sum(case when k.is_inactive then 1 else 0 end), 0) as inactive_count,
    coalesce(sum(case when k.is_large_early_late then 1 else 0 end), 0) as large_early_late_count
from marts.fct_open_opportunity_risk as k
left join staging.stg_crm__user as u on u.id = k.owner_id
where {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
