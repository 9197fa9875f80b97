{#- Grain test of one model: rows, rows with a null key column, and keys that occur more than once. -#}
with t as (
    select {{ columns | join(', ') }} from {{ table }}
),

dupes as (
    select {{ columns | join(', ') }}, count(*) as n
    from t
    group by {{ columns | join(', ') }}
    having count(*) > 1
)

select
    (select count(*) from t) as "rows",  -- noqa: RF06
    (select count(*) from t where {% for c in columns %}{{ c }} is null{% if not loop.last %} or {% endif %}{% endfor %}) as null_keys,
    (select coalesce(sum(n - 1), 0) from dupes) as duplicate_keys
