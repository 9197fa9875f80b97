{#- Bulk-update plans, newest first, with their latest decision. -#}
with decisions as (
    select
        a.plan_id,
        a.decision,
        a.approver,
        a.comment,
        row_number() over (partition by a.plan_id order by a.recorded_at desc, a.approval_id desc) as rn
    from ops.bulk_update_approval as a
)

select
    p.plan_id,
    p.plan_type,
    p.api_name,
    p.requester,
    p.created_at,
    p.expires_at,
    p.record_count,
    p.change_count,
    p.status,
    p.dag_id,
    p.run_id,
    d.decision,
    d.approver,
    d.comment
from ops.bulk_update_plan as p
left join decisions as d on d.plan_id = p.plan_id and d.rn = 1
order by p.created_at desc
