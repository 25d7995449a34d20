-- Receivables by customer: each customer's charges (rental rates and late
-- fees, fees of rentals still out accrued to the run's time), payments and
-- outstanding balance (charged - received; negative: credit), the largest
-- debts first: the balances the desk shows, as of the run.
-- Parameter: $store (the customer's home store; NULL: all).
with charged as (
    select customer_id, sum(charged) as charged, sum(late_fee) as late_fees
    from fact_sales
    group by customer_id
),

received as (
    select customer_id, sum(amount) as received
    from fact_payment
    group by customer_id
)

select
    c.customer_id,
    c.full_name as customer,
    c.email,
    c.store_id,
    coalesce(ch.charged, 0) as charged,
    coalesce(ch.late_fees, 0) as late_fees,
    coalesce(r.received, 0) as received,
    coalesce(ch.charged, 0) - coalesce(r.received, 0) as outstanding
from dim_customer c
left join charged ch on ch.customer_id = c.customer_id
left join received r on r.customer_id = c.customer_id
where ($store::bigint is null or c.store_id = $store::bigint)
order by outstanding desc, c.customer_id
