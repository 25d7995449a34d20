-- Stores whose dim_store row must be rebuilt: the store, its manager, its
-- address, city or country changed.
select store_id from changed_store
union
select s.store_id
from staging_store as s
join changed_staff as m on s.manager_staff_id = m.staff_id
union
select s.store_id
from staging_store as s
join changed_address as a on s.address_id = a.address_id
union
select s.store_id
from staging_store as s
join staging_address as a on s.address_id = a.address_id
join changed_city as ci on a.city_id = ci.city_id
union
select s.store_id
from staging_store as s
join staging_address as a on s.address_id = a.address_id
join staging_city as ci on a.city_id = ci.city_id
join changed_country as co on ci.country_id = co.country_id
