{#- Every model is built and validated for the as-of date in marts.kpi_context: packs may read. -#}
create or replace table marts.kpi_ready as
select as_of_date, current_timestamp as ready_at
from marts.kpi_context;
