insert into ops.pack_delivery_log
    (pack, period, scope_type, scope_value, recipient, channel, sent_at, status, detail, as_of, due_at, run_id)
values
    (:pack, :period, :scope_type, :scope_value, :recipient, :channel, :sent_at, :status, :detail, :as_of, :due_at, :run_id)
