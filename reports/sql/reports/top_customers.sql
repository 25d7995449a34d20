-- The $top customers by revenue (ties: more rentals first, then the customer id).
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (the
-- store of the rented copies; NULL: all), $top.
with customers as (
    select f.customer_id, count(*) as rentals, sum(f.amount) as revenue
    from fact_sales f
    where ($start::date is null or f.rental_date >= $start::date)
      and ($end::date is null or f.rental_date < $end::date + interval 1 day)
      and ($store::bigint is null or f.store_id = $store::bigint)
    group by f.customer_id
),

ranked as (
    select
        row_number() over (order by revenue desc, rentals desc, customer_id) as position,
        customer_id,
        rentals,
        revenue
    from customers
)

select r.position, r.customer_id, c.full_name as customer, c.email, r.rentals, r.revenue
from ranked r
join dim_customer c on c.customer_id = r.customer_id
where r.position <= $top::integer
order by r.position
