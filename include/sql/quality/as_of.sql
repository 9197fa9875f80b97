{#- The data's extraction time: the source clock at the latest successful load. -#}
select max(until) as as_of from ops.load_audit where status = 'loaded'
