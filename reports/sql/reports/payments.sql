-- One row per payment (fact_payment), payments on account included; the latest
-- first, at most $rows.
-- Parameters: $start, $end (payment dates, inclusive; NULL: open), $store (the
-- staff's store; NULL: all), $customer (NULL: all), $rows.
with payments as (
    select p.payment_id, p.payment_date, p.customer_id, p.store_id, p.rental_id, p.amount
    from fact_payment p
    where ($start::date is null or p.payment_date >= $start::date)
      and ($end::date is null or p.payment_date < $end::date + interval 1 day)
      and ($store::bigint is null or p.store_id = $store::bigint)
      and ($customer::bigint is null or p.customer_id = $customer::bigint)
),

latest as (
    select
        *,
        row_number() over (order by payment_date desc, payment_id desc) as position
    from payments
),

final as (
    select
        p.payment_id,
        p.payment_date,
        p.customer_id,
        c.full_name as customer,
        p.store_id,
        p.rental_id,
        p.amount
    from latest p
    join dim_customer c on c.customer_id = p.customer_id
    where p.position <= $rows::integer
)

select * from final
order by payment_date desc, payment_id desc
