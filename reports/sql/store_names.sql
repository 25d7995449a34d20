-- The lake's stores, for report filters: id and "city, country".
select store_id, city || ', ' || country as store
from dim_store
order by store_id
