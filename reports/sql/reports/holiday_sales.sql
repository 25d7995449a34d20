-- Rentals and revenue per US federal holiday (from dim_date), and on the other
-- days together ("Not a holiday"); days: the days of the period with rentals, and
-- the per-day averages that compare one holiday with the other days.
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
    coalesce(d.holiday_name, 'Not a holiday') as holiday,
    d.is_holiday,
    count(*) as days,
    cast(sum(days.rentals) as bigint) as rentals,
    sum(days.revenue) as revenue,
    round(cast(sum(days.rentals) as double) / count(*), 1) as rentals_per_day,
    cast(round(sum(days.revenue) / count(*), 2) as decimal(18, 2)) as revenue_per_day
from days
join dim_date d on d.date_id = days.date_sales_id
group by d.is_holiday, coalesce(d.holiday_name, 'Not a holiday')
order by d.is_holiday desc, revenue desc, holiday
