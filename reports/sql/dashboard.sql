-- The dashboard's headline figures for a period and a store: one row.
-- Grain of fact_sales: one row per rental, amount = the sum of its payments.
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (NULL: all).
with sales as (
    select
        f.customer_id,
        f.amount,
        f.payment_count
    from fact_sales as f
    where ($start::date is null or f.rental_date >= $start::date)
      and ($end::date is null or f.rental_date < $end::date + interval 1 day)
      and ($store::bigint is null or f.store_id = $store::bigint)
),

final as (
    select
        coalesce(sum(amount), 0) as revenue,
        count(*) as rentals,
        sum(amount) / nullif(sum(payment_count), 0) as average_payment,
        count(distinct customer_id) as active_customers
    from sales
)

select * from final
