-- Per film category: the rentals returned, those returned late (after the
-- film's rental duration, in days) and the late share (late / returned).
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (NULL: all).
with films as (
    select
        f.film_id,
        count(case when f.is_returned then 1 end) as returned,
        count(case when f.is_late then 1 end) as late
    from fact_sales f
    where ($start::date is null or f.rental_date >= $start::date)
      and ($end::date is null or f.rental_date < $end::date + interval 1 day)
      and ($store::bigint is null or f.store_id = $store::bigint)
    group by f.film_id
),

returns as (
    select fi.category, sum(films.returned) as returned, sum(films.late) as late
    from films
    join dim_film fi on fi.film_id = films.film_id
    where fi.category is not null
    group by fi.category
)

select
    category,
    cast(returned as bigint) as returned,
    cast(late as bigint) as late,
    round(cast(late as double) / nullif(returned, 0), 4) as late_share
from returns
order by late_share desc nulls last, category
