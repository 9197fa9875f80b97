insert into ops.bulk_update_approval (
    approval_id, plan_id, plan_hash, decision, approver, responded_at, comment, channel, signature,
    run_id, recorded_at
) values (
    :approval_id, :plan_id, :plan_hash, :decision, :approver, cast(:responded_at as timestamp), :comment,
    :channel, :signature, :run_id, cast(:recorded_at as timestamp)
)
