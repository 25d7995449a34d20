-- The $top films by revenue (ties: more rentals first, then the film id).
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (NULL: all), $top,
-- $category (the film's category; NULL: all).
with films as (
    select f.film_id, count(*) as rentals, sum(f.amount) as revenue
    from fact_sales f
    join dim_film fc on fc.film_id = f.film_id
    where ($start::date is null or f.rental_date >= $start::date)
      and ($end::date is null or f.rental_date < $end::date + interval 1 day)
      and ($store::bigint is null or f.store_id = $store::bigint)
      and ($category::varchar is null or fc.category = $category::varchar)
    group by f.film_id
),

ranked as (
    select
        row_number() over (order by revenue desc, rentals desc, film_id) as position,
        film_id,
        rentals,
        revenue
    from films
)

select r.position, r.film_id, fi.title, fi.category, r.rentals, r.revenue
from ranked r
join dim_film fi on fi.film_id = r.film_id
where r.position <= $top::integer
order by r.position
