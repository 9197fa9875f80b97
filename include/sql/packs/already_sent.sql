{#- Earlier successful deliveries of one pack slice (a re-run does not send twice). -#}
select recipient, channel, min(sent_at) as sent_at
from ops.pack_delivery_log
where pack = :pack and period = :period and scope_type = :scope_type and scope_value = :scope_value
  and status = 'sent' and channel <> 'hold'
group by recipient, channel
