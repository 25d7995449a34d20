-- fact_payment: one row per payment (payment_id unique), payments on account
-- (no rental) included, so sum(amount) equals the rental database's
-- SUM(payment.amount). store_id is the store of the staff member who took it.
with payments as (
    select *
    from staging_payment
    where payment_id in (select payment_id from fact_payment_keys)
),

final as (
    select
        p.payment_id,
        year(p.payment_date) * 10000 + month(p.payment_date) * 100 + day(p.payment_date)
            as date_id,
        p.customer_id,
        p.staff_id,
        s.store_id,
        p.rental_id,
        p.amount,
        p.payment_date
    from payments as p
    left join staging_staff as s on p.staff_id = s.staff_id
)

select * from final
