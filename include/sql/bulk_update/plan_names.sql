{#- Names the approver reads instead of ids: per record of a plan, its owner's name and its account's
    name (the account of an opportunity/contact, the company of a lead). One row per record.
    Switches: record_table (staging table of the plan's object), account_column (a column holding an
    Account id) or company_column (a text column with the company), has_users.
    sqlfluff sees each branch's joins without their select columns: hence the ST11 noqa. -#}
with plan_records as (
    select distinct record_id, owner_id
    from ops.bulk_update_plan_row
    where plan_id = :plan_id
)

select
    r.record_id,
    r.owner_id,
{%- if has_users %}
    u.name as owner_name,
{%- else %}
    cast(null as varchar) as owner_name,
{%- endif %}
{%- if account_column %}
    a.name as account_name
{%- elif company_column %}
    o.{{ company_column }} as account_name
{%- else %}
    cast(null as varchar) as account_name
{%- endif %}
from plan_records as r
{%- if has_users %}
left join staging.stg_crm__user as u on u.id = r.owner_id  -- noqa: ST11
{%- endif %}
{%- if account_column or company_column %}
left join {{ record_table }} as o on o.id = r.record_id
{%- endif %}
{%- if account_column %}
left join staging.stg_crm__account as a on a.id = o.{{ account_column }}  -- noqa: ST11
{%- endif %}
order by r.record_id
