{#- The duplicates of the previous object are not this object's. -#}
delete from quality.work_dup_found
