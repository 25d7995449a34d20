-- Revenue per store (the store of the rented copy), as Sakila's sales_by_store view.
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (NULL: all).
select
    s.store_id,
    s.city || ', ' || s.country as store,
    s.manager,
    sum(f.amount) as total_sales
from fact_sales f
join dim_store s on s.store_id = f.store_id
where ($start::date is null or f.rental_date >= $start::date)
  and ($end::date is null or f.rental_date < $end::date + 1)
  and ($store::bigint is null or f.store_id = $store::bigint)
group by s.store_id, s.city, s.country, s.manager
order by s.store_id
