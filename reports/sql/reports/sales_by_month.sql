-- Rentals and revenue per month of the rental date (YYYY-MM), oldest first.
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (NULL: all).
-- The facts are summed per day (date_sales_id) first, then grouped by dim_date's month.
with days as (
    select f.date_sales_id, count(*) as rentals, sum(f.amount) as revenue
    from fact_sales f
    where ($start::date is null or f.rental_date >= $start::date)
      and ($end::date is null or f.rental_date < $end::date + interval 1 day)
      and ($store::bigint is null or f.store_id = $store::bigint)
    group by f.date_sales_id
),

months as (
    select
        d.year,
        d.month,
        cast(sum(days.rentals) as bigint) as rentals,
        sum(days.revenue) as revenue
    from days
    join dim_date d on d.date_id = days.date_sales_id
    group by d.year, d.month
)

select
    cast(year as varchar) || '-' || lpad(cast(month as varchar), 2, '0') as month,
    rentals,
    revenue
from months
order by year, month
