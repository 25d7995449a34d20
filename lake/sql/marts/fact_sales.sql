-- fact_sales: one row per rental (rental_id unique, never null), for the
-- rentals in fact_sales_keys. amount is the sum of the rental's payments
-- (0 if none), so sum(amount) equals the sum of payments that have a rental.
with rentals as (
    select *
    from staging_rental
    where rental_id in (select rental_id from fact_sales_keys)
),

payments as (
    select
        rental_id,
        sum(amount) as amount,
        count(*) as payment_count,
        max(payment_date) as last_payment_date
    from staging_payment
    where rental_id in (select rental_id from fact_sales_keys)
    group by rental_id
),

final as (
    select
        r.rental_id,
        year(r.rental_date) * 10000 + month(r.rental_date) * 100 + day(r.rental_date)
            as date_sales_id,
        r.customer_id,
        i.film_id,
        i.store_id,
        r.staff_id,
        r.inventory_id,
        r.rental_date,
        r.return_date,
        date_diff('day', cast(r.rental_date as date), cast(r.return_date as date)) as rental_days,
        r.return_date is not null as is_returned,
        coalesce(
            date_diff('day', cast(r.rental_date as date), cast(r.return_date as date))
            > f.rental_duration,
            false
        ) as is_late,
        coalesce(p.amount, 0) as amount,
        coalesce(p.payment_count, 0) as payment_count,
        p.last_payment_date
    from rentals as r
    join staging_inventory as i on r.inventory_id = i.inventory_id
    join staging_film as f on i.film_id = f.film_id
    left join payments as p on r.rental_id = p.rental_id
)

select * from final
