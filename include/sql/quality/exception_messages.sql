{#- Each exception row of this run in words a user reads: the field by its label (the customer's
    column label from the CSV column map, ops.field_label; else the API name spelt out), the wrong
    value as stored, and the value or rule the policy expects. Set-wise; one statement.
    Context: labels {(object, api_name): sql literal}, check_texts [(id, sql literal description)],
    stage_fc [{stage, allowed}], picklist_rules [{field, column, allowed}], policy_lists
    {field: allowed}, object_picklist_rules [{object, field, label, allowed}] (Lead/Account/Contact), amount_min, amount_max, past_due_rule, stale_days, next_step_stage. -#}
{%- macro label(obj, api) -%}{{ labels.get((obj, api), "'" ~ api ~ "'") }}{%- endmacro -%}
{%- macro q(expr) -%}chr(39) || {{ expr }} || chr(39){%- endmacro -%}
update quality.run_exception as r set message = m.message
from (
    select
        e.check_id,
        e.object,
        e.record_id,
        e.detail,
        case
            when e.check_id = 'opp_missing_required_field'
                then case e.detail
                {%- for api, lab in opp_labels %}
                    when '{{ api }}' then {{ lab }}
                {%- endfor %}
                    else e.detail
                end || ' is empty: required at ' || {{ label('Opportunity', 'StageName') }} || ' '
                || {{ q("coalesce(o.stage_name, '')") }}
            when e.check_id = 'opp_forecast_category_mismatch'
                then {{ label('Opportunity', 'ForecastCategoryName') }} || ' '
                || coalesce({{ q('o.forecast_category') }}, 'empty') || ' is not allowed at '
                || {{ label('Opportunity', 'StageName') }} || ' ' || {{ q('e.detail') }} || ': expected '
                || case e.detail
                {%- for s in stage_fc %}
                    when {{ s.stage }} then {{ s.allowed }}
                {%- endfor %}
                    else 'a category stages.yaml allows'
                end
            when e.check_id = 'opp_invalid_picklist'
                then case e.detail
                {%- for p in picklist_rules %}
                    when {{ p.field }} then {{ p.label }} || ' ' || {{ q('o.' ~ p.column) }}
                    || ' is not in the picklist: expected one of ' || {{ p.allowed }}
                {%- endfor %}
                    else e.detail || ' is not in the picklist'
                end
            when e.check_id = 'opp_amount_invalid' and o.amount is null
                then {{ label('Opportunity', 'Amount') }} || ' is empty: expected more than {{ amount_min }}'
            when e.check_id = 'opp_amount_invalid' and e.detail = 'outlier'
                then {{ label('Opportunity', 'Amount') }} || ' ' || cast(round(o.amount, 2) as varchar)
                -- multi-currency: the bound is in the corporate currency, the amount converted first
                || case when o.currency_iso_code is null then ': expected at most {{ amount_max }}'
                        else ' ' || o.currency_iso_code
                             || ': expected at most {{ amount_max }} in the corporate currency, once converted'
                   end
            when e.check_id = 'opp_amount_invalid'
                then {{ label('Opportunity', 'Amount') }} || ' '
                || case when o.amount = 0 then '0' else cast(round(o.amount, 2) as varchar) end
                || ': expected more than {{ amount_min }}'
            when e.check_id = 'opp_past_close_date'
                then {{ label('Opportunity', 'CloseDate') }} || ' ' || coalesce(cast(o.close_date as varchar), '')
                || ': ' || {{ past_due_rule }}
            when e.check_id = 'opp_stale'
                then {{ label('Opportunity', 'LastActivityDate') }} || ' '
                || coalesce(cast(o.last_activity_date as varchar), 'empty')
                || ': expected activity within {{ stale_days }} days on an open deal'
            when e.check_id = 'opp_missing_next_step'
                then {{ label('Opportunity', 'NextStep') }} || ' is empty: required on open deals from '
                || {{ label('Opportunity', 'StageName') }} || ' ' || {{ next_step_stage }} || ' on'
            when e.check_id = 'opp_orphan_owner'
                then {{ label('Opportunity', 'OwnerId') }} || ' ' || {{ q('e.detail') }}
                || ' matches no user: expected a user id, user name or e-mail of the user export'
            when e.check_id = 'opp_orphan_account'
                then {{ label('Opportunity', 'AccountId') }} || ' ' || {{ q("coalesce(o.account_id, '')") }}
                || ' matches no account'
            when e.check_id = 'policy_unknown_value'
                then case split_part(e.detail, ' ', 1)
                {%- for p in policy_lists %}
                    when {{ p.field }} then {{ p.label }} || ' '
                    || substr(e.detail, length(split_part(e.detail, ' ', 1)) + 2)
                    || ' is not in the policy: expected one of ' || {{ p.allowed }}
                {%- endfor %}
                    else e.detail || ' is not in the policy'
                end
            when e.check_id = 'lead_invalid_email'
                then {{ label('Lead', 'Email') }} || ' ' || {{ q("coalesce(l.email, '')") }}
                || ': expected an e-mail address'
            when e.check_id = 'contact_invalid_email'
                then {{ label('Contact', 'Email') }} || ' ' || {{ q("coalesce(c.email, '')") }}
                || ': expected an e-mail address'
            when e.check_id = 'lead_unassigned'
                then {{ label('Lead', 'OwnerId') }} || ' is empty on an unconverted lead: expected an owner'
            when e.check_id like '%!_unknown!_picklist!_value' escape '!'
                then case
                {%- for p in object_picklist_rules %}
                    when e.object = {{ p.object }} and split_part(e.detail, ' ', 1) = {{ p.field }}
                        then {{ p.label }} || ' '
                        || substr(e.detail, length(split_part(e.detail, ' ', 1)) + 2)
                        || ' is not in the policy: expected one of ' || {{ p.allowed }}
                {%- endfor %}
                    else e.detail || ' is not in the policy'
                end
            when e.check_id like '%!_duplicate' escape '!'
                then 'duplicate of ' || coalesce(e.related_id, '?') || ' (' || e.detail || ')'
            else case e.check_id
            {%- for cid, text in check_texts %}
                when '{{ cid }}' then {{ text }}
            {%- endfor %}
                else e.check_id
            end || case when e.detail <> '' then ': ' || e.detail else '' end
        end as message
    from quality.run_exception as e
    left join {{ tables.opportunity }} as o on e.object = 'Opportunity' and e.record_id = o.id
    left join {{ tables.lead }} as l on e.object = 'Lead' and e.record_id = l.id
    left join {{ tables.contact }} as c on e.object = 'Contact' and e.record_id = c.id
    where e.run_id = :run_id
) as m
where
    r.run_id = :run_id
    and r.check_id = m.check_id
    and r.object = m.object
    and r.record_id = m.record_id
    and r.detail = m.detail
