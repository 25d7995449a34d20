-- Stores whose dim_store row must be rebuilt: the store, its manager or its
-- address (with its city and country) changed.
select store_id from changed_store
union
select s.store_id
from staging_store as s
join changed_staff as m on s.manager_staff_id = m.staff_id
union
select s.store_id
from staging_store as s
join address_keys as a on s.address_id = a.address_id
