-- One customer of the lake (dim_customer) and their account as of the run:
-- rentals, charged (rates + late fees), late fees, received, outstanding (the
-- desk's balance). Parameter: $customer.
with charged as (
    select count(*) as rentals, sum(f.charged) as charged, sum(f.late_fee) as late_fees
    from fact_sales f
    where f.customer_id = $customer::bigint
),

received as (
    select count(*) as payments, sum(p.amount) as received
    from fact_payment p
    where p.customer_id = $customer::bigint
),

final as (
    select
        c.customer_id,
        c.full_name as customer,
        c.email,
        c.active,
        c.create_date,
        c.address,
        c.city,
        c.country,
        c.store_id,
        coalesce(ch.rentals, 0) as rentals,
        coalesce(r.payments, 0) as payments,
        coalesce(ch.charged, 0) as charged,
        coalesce(ch.late_fees, 0) as late_fees,
        coalesce(r.received, 0) as received,
        coalesce(ch.charged, 0) - coalesce(r.received, 0) as outstanding
    from dim_customer c
    cross join charged ch
    cross join received r
    where c.customer_id = $customer::bigint
)

select * from final
