{#- Exact-key pass: every record whose key (all parts with a value) equals an earlier record's,
    paired with the first record (lowest idx) of its key. -#}
select first_idx as i, idx as j
from (
    select idx, min(idx) over (partition by {{ dup_key | join(', ') }}) as first_idx
    from dup_records
    where {% for c in dup_key %}{{ c }} <> ''{{ ' and ' if not loop.last }}{% endfor %}
) as k
where idx <> first_idx
