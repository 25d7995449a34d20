-- Addresses whose resolved place changed: the address, its city or that
-- city's country. Shared by the keys of dim_customer, dim_store, dim_staff.
select address_id from changed_address
union
select a.address_id
from staging_address as a
join changed_city as ci on a.city_id = ci.city_id
union
select a.address_id
from staging_address as a
join staging_city as ci on a.city_id = ci.city_id
join changed_country as co on ci.country_id = co.country_id
