-- Rentals whose fact_sales row must be rebuilt: the rental changed, one of
-- its payments changed, or its copy moved.
select rental_id from changed_rental
union
select rental_id from changed_payment where rental_id is not null
union
select r.rental_id
from staging_rental as r
join changed_inventory as i on r.inventory_id = i.inventory_id
