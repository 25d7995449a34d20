-- Rentals still out past their due date as of the run (fact_sales.days_late
-- and late_fee are accrued to the time the run read the rental database),
-- the latest first. Parameter: $store (the copy's store; NULL: all).
select
    f.rental_id,
    f.customer_id,
    c.full_name as customer,
    c.email,
    f.store_id,
    f.film_id,
    d.title as film,
    f.rental_date,
    f.days_late,
    f.late_fee
from fact_sales f
join dim_customer c on c.customer_id = f.customer_id
join dim_film d on d.film_id = f.film_id
where not f.is_returned
  and f.days_late > 0
  and ($store::bigint is null or f.store_id = $store::bigint)
order by f.days_late desc, f.rental_id
