-- Customers whose dim_customer row must be rebuilt: the customer, their
-- address, its city or that city's country changed.
select customer_id from changed_customer
union
select c.customer_id
from staging_customer as c
join changed_address as a on c.address_id = a.address_id
union
select c.customer_id
from staging_customer as c
join staging_address as a on c.address_id = a.address_id
join changed_city as ci on a.city_id = ci.city_id
union
select c.customer_id
from staging_customer as c
join staging_address as a on c.address_id = a.address_id
join staging_city as ci on a.city_id = ci.city_id
join changed_country as co on ci.country_id = co.country_id
