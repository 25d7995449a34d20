-- Rentals whose fact_sales row must be rebuilt: the rental changed, one of
-- its payments changed, its copy moved, or its film changed (rate, duration,
-- replacement cost: what it costs). And, changed or not, a rental still out
-- whose late fee as stored differs from its fee as of this run (run_clock):
-- fees accrue with time alone. That re-reads only the open rentals, and
-- rewrites only those a new calendar day made dearer (none twice a day).
-- The fee is fact_sales.sql's (rentals/pricing.py's rules, held to them by
-- tests/rentals/test_pricing.py).
select rental_id from changed_rental
union
select rental_id from changed_payment where rental_id is not null
union
select r.rental_id
from staging_rental as r
join changed_inventory as i on r.inventory_id = i.inventory_id
union
select r.rental_id
from staging_rental as r
join staging_inventory as i on r.inventory_id = i.inventory_id
join changed_film as f on i.film_id = f.film_id
union
select s.rental_id
from mart_fact_sales as s
join staging_rental as r on s.rental_id = r.rental_id
join staging_inventory as i on r.inventory_id = i.inventory_id
join staging_film as f on i.film_id = f.film_id
cross join run_clock as c
where not s.is_returned
  and r.return_date is null
  and s.late_fee <> least(
      cast(
          greatest(
              date_diff('day', cast(r.rental_date as date), cast(c.as_of as date))
              - f.rental_duration,
              0
          ) as decimal(9, 2)
      ),
      f.replacement_cost
  )
