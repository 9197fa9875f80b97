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
{%- elif t == 'timestamp' and dialect == 'snowflake' -%}try_to_timestamp_ntz(convert_timezone('UTC', try_to_timestamp_tz({{ expr }})))
{%- elif t == 'timestamp' -%}try_cast(try_cast({{ expr }} as timestamptz) at time zone 'UTC' as timestamp)
{%- elif t == 'date' and dialect == 'snowflake' -%}try_to_date({{ expr }}, 'YYYY-MM-DD')
{%- elif t == 'bool' and dialect == 'snowflake' -%}try_to_boolean({{ expr }})
{%- elif t in ('int', 'decimal', 'double') and dialect == 'snowflake' -%}try_cast({{ expr }} as {{ sql_type(t) }})
{%- else -%}try_cast({{ expr }} as {{ sql_type(t) }})
{%- endif -%}
{%- endmacro -%}
