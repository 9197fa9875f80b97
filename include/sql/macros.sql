{#- Dialect differences live here and nowhere else. Each macro takes a SQL expression. -#}
{%- macro sql_type(t) -%}
{%- if t in ('id', 'string') -%}varchar
{%- elif t == 'int' -%}bigint
{%- elif t == 'decimal' -%}decimal(18,2)
{%- elif t == 'double' -%}double
{%- elif t == 'bool' -%}boolean
{%- elif t == 'date' -%}date
{%- elif t == 'timestamp' -%}timestamp
{%- endif -%}
{%- endmacro -%}

{#- Parse API text into the staging type; NULL when the text does not parse. -#}
{%- macro parse(expr, t) -%}
{%- if t in ('id', 'string') -%}nullif({{ expr }}, '')
{%- elif t == 'timestamp' and dialect == 'snowflake' -%}cast(convert_timezone('UTC', try_cast({{ expr }} as timestamp_tz)) as timestamp_ntz)
{%- elif t == 'timestamp' -%}try_cast(try_cast({{ expr }} as timestamptz) at time zone 'UTC' as timestamp)
{%- elif t == 'date' and dialect == 'snowflake' -%}try_to_date({{ expr }}, 'YYYY-MM-DD')
{%- elif t == 'bool' and dialect == 'snowflake' -%}try_to_boolean({{ expr }})
{%- elif t in ('int', 'decimal', 'double') and dialect == 'snowflake' -%}try_cast({{ expr }} as {{ sql_type(t) }})
{%- else -%}try_cast({{ expr }} as {{ sql_type(t) }})
{%- endif -%}
{%- endmacro -%}

{#- KPI models (appended): day and second differences, adding days to a date. -#}
{%- macro datediff_days(start, end) -%}
{%- if dialect == 'snowflake' -%}datediff(day, {{ start }}, {{ end }})
{%- else -%}date_diff('day', {{ start }}, {{ end }})
{%- endif -%}
{%- endmacro -%}

{%- macro seconds_between(start, end) -%}
{%- if dialect == 'snowflake' -%}(datediff(millisecond, {{ start }}, {{ end }}) / 1000.0)
{%- else -%}(date_diff('millisecond', {{ start }}, {{ end }}) / 1000.0)
{%- endif -%}
{%- endmacro -%}

{%- macro add_days(date_expr, days) -%}
{%- if dialect == 'snowflake' -%}dateadd(day, {{ days }}, {{ date_expr }})
{%- else -%}cast({{ date_expr }} + cast({{ days }} as integer) as date)
{%- endif -%}
{%- endmacro -%}

{#- Snowflake (appended): how information_schema spells an unquoted name (upper case there). -#}
{%- macro catalog_name(expr) -%}
{%- if dialect == 'snowflake' -%}upper({{ expr }})
{%- else -%}{{ expr }}
{%- endif -%}
{%- endmacro -%}

{#- The larger of two values, ignoring a null (null when both are): Snowflake's GREATEST returns
    null when any argument is null, DuckDB's ignores nulls; coalescing each side agrees on both. -#}
{%- macro greatest_of(a, b) -%}
greatest(coalesce({{ a }}, {{ b }}), coalesce({{ b }}, {{ a }}))
{%- endmacro -%}
