-- fact_sales: one row per rental (rental_id unique, never null), for the
-- rentals in fact_sales_keys. amount is the sum of the rental's payments
-- (0 if none), so sum(amount) equals the sum of payments that have a rental.
-- Money owed, by the rules of rentals/pricing.py (tests/rentals/test_pricing.py
-- holds this SQL to them): days_late counts calendar days past rental_date +
-- rental_duration, up to the return, or up to the run's as_of while the copy
-- is out (run_clock); late_fee is $1.00 a day late, capped at the film's
-- replacement cost (final when returned, accrued when open); charged = rental
-- rate + late fee.
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

lateness as (
    select
        r.rental_id,
        greatest(
            date_diff(
                'day',
                cast(r.rental_date as date),
                -- the return, or the run's time while out (or returned after it)
                cast(least(coalesce(r.return_date, c.as_of), c.as_of) as date)
            ) - f.rental_duration,
            0
        ) as days_late,
        f.replacement_cost
    from rentals as r
    join staging_inventory as i on r.inventory_id = i.inventory_id
    join staging_film as f on i.film_id = f.film_id
    cross join run_clock as c
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
        p.last_payment_date,
        l.days_late,
        least(cast(l.days_late as decimal(9, 2)), l.replacement_cost) as late_fee,
        f.rental_rate + least(cast(l.days_late as decimal(9, 2)), l.replacement_cost) as charged
    from rentals as r
    join staging_inventory as i on r.inventory_id = i.inventory_id
    join staging_film as f on i.film_id = f.film_id
    join lateness as l on r.rental_id = l.rental_id
    left join payments as p on r.rental_id = p.rental_id
)

select * from final
