-- Revenue per film category, as Sakila's sales_by_film_category view: one row
-- per category that has payments, best first. The store is the rented copy's.
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (NULL: all).
with films as (
    select f.film_id, sum(f.amount) as amount, sum(f.payment_count) as payments
    from fact_sales f
    where ($start::date is null or f.rental_date >= $start::date)
      and ($end::date is null or f.rental_date < $end::date + interval 1 day)
      and ($store::bigint is null or f.store_id = $store::bigint)
    group by f.film_id
)

select
    fi.category,
    sum(films.amount) as total_sales
from films
join dim_film fi on fi.film_id = films.film_id
where fi.category is not null
group by fi.category
having sum(films.payments) > 0
order by total_sales desc, fi.category
