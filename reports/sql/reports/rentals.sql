-- One row per rental (fact_sales): what a month's day, a film, a store or a
-- customer sums up; the latest first, at most $rows.
-- Parameters: $start, $end (rental dates, inclusive; NULL: open), $store (the
-- copy's store; NULL: all), $film, $customer (NULL: all), $rows.
with rentals as (
    select
        f.rental_id,
        f.rental_date,
        f.return_date,
        f.film_id,
        f.customer_id,
        f.store_id,
        f.days_late,
        f.amount,
        f.late_fee
    from fact_sales f
    where ($start::date is null or f.rental_date >= $start::date)
      and ($end::date is null or f.rental_date < $end::date + interval 1 day)
      and ($store::bigint is null or f.store_id = $store::bigint)
      and ($film::bigint is null or f.film_id = $film::bigint)
      and ($customer::bigint is null or f.customer_id = $customer::bigint)
),

latest as (
    select
        *,
        row_number() over (order by rental_date desc, rental_id desc) as position
    from rentals
),

final as (
    select
        r.rental_id,
        r.rental_date,
        r.return_date,
        r.film_id,
        fi.title as film,
        r.customer_id,
        c.full_name as customer,
        r.store_id,
        r.days_late,
        r.amount,
        r.late_fee
    from latest r
    join dim_film fi on fi.film_id = r.film_id
    join dim_customer c on c.customer_id = r.customer_id
    where r.position <= $rows::integer
)

select * from final
order by rental_date desc, rental_id desc
