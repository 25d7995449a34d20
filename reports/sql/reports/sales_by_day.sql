-- Rentals and revenue per day of the rental date, oldest first (a month's days,
-- when a month of sales_by_month is opened). One row per day with rentals.
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (NULL: all).
with days as (
    select f.date_sales_id, count(*) as rentals, sum(f.amount) as revenue
    from fact_sales f
    where ($start::date is null or f.rental_date >= $start::date)
      and ($end::date is null or f.rental_date < $end::date + interval 1 day)
      and ($store::bigint is null or f.store_id = $store::bigint)
    group by f.date_sales_id
),

final as (
    select
        d.full_date as day,
        d.day_name,
        d.is_weekend,
        d.holiday_name as holiday,
        days.rentals,
        days.revenue
    from days
    join dim_date d on d.date_id = days.date_sales_id
)

select * from final
order by day
