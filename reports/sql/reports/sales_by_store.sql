-- Revenue per store (the store of the rented copy), as Sakila's sales_by_store view.
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (NULL: all).
-- The facts are summed per store first, then the store's names joined.
with sales as (
    select f.store_id, sum(f.amount) as total_sales
    from fact_sales f
    where ($start::date is null or f.rental_date >= $start::date)
      and ($end::date is null or f.rental_date < $end::date + interval 1 day)
      and ($store::bigint is null or f.store_id = $store::bigint)
    group by f.store_id
)

select
    s.store_id,
    s.city || ', ' || s.country as store,
    s.manager,
    sales.total_sales
from sales
join dim_store s on s.store_id = sales.store_id
order by s.store_id
