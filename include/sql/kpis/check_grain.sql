{#- Grain test of one model: rows, rows with a null key column, and keys that occur more than once.
    One group-by over the table gives the rows and the duplicates (the rows beyond the first of each
    key); reading a CTE of the key columns three times materialised it whole (5 M rows for the
    field intervals). With `by_hash` the group-by is on one hash of the key columns (hash() of
    DuckDB and Snowflake), about half the work for a multi-column grain: equal keys hash equal, so
    no duplicate can hide, but two keys may collide - kpis.runner.check_grain counts again by the
    columns themselves when this finds any duplicate. -#}
select
    coalesce(sum(k.n), 0) as "rows",  -- noqa: RF06
    (
        select count(*) from {{ table }}
        where {% for c in columns %}{{ c }} is null{% if not loop.last %} or {% endif %}{% endfor %}
    ) as null_keys,
    coalesce(sum(k.n - 1), 0) as duplicate_keys
from (
    select count(*) as n
    from {{ table }}
    group by {% if by_hash %}hash({{ columns | join(', ') }}){% else %}{{ columns | join(', ') }}{% endif %}
) as k
