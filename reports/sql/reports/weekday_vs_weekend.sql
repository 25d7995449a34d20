-- Rentals and revenue on weekdays and at weekends (Saturday, Sunday; from dim_date),
-- and per day (days: the days of the period with rentals), as 5 days compare with 2.
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
    case when d.is_weekend then 'Weekend' else 'Weekday' end as day_type,
    d.is_weekend,
    cast(sum(days.rentals) as bigint) as rentals,
    sum(days.revenue) as revenue,
    count(*) as days,
    round(cast(sum(days.rentals) as double) / count(*), 1) as rentals_per_day,
    cast(round(sum(days.revenue) / count(*), 2) as decimal(18, 2)) as revenue_per_day
from days
join dim_date d on d.date_id = days.date_sales_id
group by d.is_weekend
order by d.is_weekend
