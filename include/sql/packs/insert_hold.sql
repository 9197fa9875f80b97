insert into ops.pack_hold (pack, period, scope_type, scope_value, held_at, as_of, reasons, held_dir, run_id)
values (:pack, :period, :scope_type, :scope_value, :held_at, :as_of, :reasons, :held_dir, :run_id)
