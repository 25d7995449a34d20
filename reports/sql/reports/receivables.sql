-- Receivables by store: for the customers of each store (their home store),
-- what they were charged (rental rates and late fees, fees of rentals still
-- out accrued to the run's time), what they paid (every payment, on account
-- too) and what they owe: outstanding = charged - received (negative:
-- credit). Summed over the stores: the sum of the customers' balances.
-- Parameter: $store (the customers' home store; NULL: all).
with charged as (
    select customer_id, sum(charged) as charged
    from fact_sales
    group by customer_id
),

received as (
    select customer_id, sum(amount) as received
    from fact_payment
    group by customer_id
),

accounts as (
    select
        c.customer_id,
        c.store_id,
        coalesce(ch.charged, 0) as charged,
        coalesce(r.received, 0) as received
    from dim_customer c
    left join charged ch on ch.customer_id = c.customer_id
    left join received r on r.customer_id = c.customer_id
    where ($store::bigint is null or c.store_id = $store::bigint)
)

select
    a.store_id,
    s.city || ', ' || s.country as store,
    count(*) as customers,
    count(case when a.charged > a.received then 1 end) as customers_owing,
    sum(a.charged) as charged,
    sum(a.received) as received,
    sum(a.charged - a.received) as outstanding
from accounts a
join dim_store s on s.store_id = a.store_id
group by a.store_id, s.city, s.country
order by a.store_id
