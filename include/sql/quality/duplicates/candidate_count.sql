{#- How many distinct candidate pairs a pass has (what candidate_pairs.sql yields over all its
    keys), without generating them: the pairs sharing a block of some key, counted by
    inclusion-exclusion over the keys (dup_subsets: each non-empty set of key numbers with its
    sign); the pairs sharing the blocks of every key of a set are the pairs within each group of
    those block ids. -#}
select cast(coalesce(sum(pairs), 0) as bigint) as pairs
from (
{%- for subset in dup_subsets %}
    select {{ subset.sign }} * coalesce(sum(n * (n - 1) // 2), 0) as pairs
    from (
        select count(*) as n
        from {{ dup_table }}
        where {% for k in subset.key_numbers %}g{{ k }} is not null{{ ' and ' if not loop.last }}{% endfor %}
        group by {% for k in subset.key_numbers %}g{{ k }}{{ ', ' if not loop.last }}{% endfor %}
    ) as g
    {{- '\n    union all' if not loop.last }}
{%- endfor %}
) as s
