{#- Which of these company names (registered as _sim_names(name)) an account already has: a lead of
    an existing account is not converted into a new one (salesops_demo/simulate.py). -#}
-- noqa: disable=CP02, RF06
select distinct Name from "Account" where Name in (select name from _sim_names)
