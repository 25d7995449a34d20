-- Staff whose dim_staff row must be rebuilt: the staff row, their address,
-- city or country changed.
select staff_id from changed_staff
union
select s.staff_id
from staging_staff as s
join changed_address as a on s.address_id = a.address_id
union
select s.staff_id
from staging_staff as s
join staging_address as a on s.address_id = a.address_id
join changed_city as ci on a.city_id = ci.city_id
union
select s.staff_id
from staging_staff as s
join staging_address as a on s.address_id = a.address_id
join staging_city as ci on a.city_id = ci.city_id
join changed_country as co on ci.country_id = co.country_id
