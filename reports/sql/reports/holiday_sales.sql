-- Rentals and revenue per US federal holiday (from dim_date), and on the other
-- days together ("Not a holiday"); days: the days of the period with rentals.
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
    sum(days.revenue) as revenue
from days
join dim_date d on d.date_id = days.date_sales_id
group by d.is_holiday, coalesce(d.holiday_name, 'Not a holiday')
order by d.is_holiday desc, revenue desc, holiday
