-- Rentals and revenue per day of the week (ISO: 1 Monday .. 7 Sunday, from dim_date).
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (NULL: all).
with days as (
    select f.date_sales_id, count(*) as rentals, sum(f.amount) as revenue
    from fact_sales f
    where ($start::date is null or f.rental_date >= $start::date)
      and ($end::date is null or f.rental_date < $end::date + interval 1 day)
      and ($store::bigint is null or f.store_id = $store::bigint)
    group by f.date_sales_id
)

select
    d.day_of_week,
    d.day_name,
    cast(sum(days.rentals) as bigint) as rentals,
    sum(days.revenue) as revenue
from days
join dim_date d on d.date_id = days.date_sales_id
group by d.day_of_week, d.day_name
order by d.day_of_week
