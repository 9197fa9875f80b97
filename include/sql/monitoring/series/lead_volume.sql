-- Lead volume: leads created each day, overall and by lead source (marts.int_lead_enriched).
{% import 'monitoring/_series.sql' as series %}
with lead as (
    select * from marts.int_lead_enriched
    where cast(created_at as date) >= :from_date and cast(created_at as date) < :as_of_date
)

{{ series.daily_counts('lead', 'cast(created_at as date)', [('lead_source', "coalesce(lead_source, '(none)')")]) }}
