-- Customers whose dim_customer row must be rebuilt: the customer or their
-- address (with its city and country) changed.
select customer_id from changed_customer
union
select c.customer_id
from staging_customer as c
join address_keys as a on c.address_id = a.address_id
