-- dim_customer: one row per customer (customer_id unique), with the home
-- address resolved to city and country; for the customers in dim_customer_keys.
with customers as (
    select *
    from staging_customer
    where customer_id in (select customer_id from dim_customer_keys)
),

final as (
    select
        c.customer_id,
        c.first_name,
        c.last_name,
        c.first_name || ' ' || c.last_name as full_name,
        c.email,
        c.active,
        c.create_date,
        a.address,
        a.address2,
        a.district,
        a.postal_code,
        a.phone,
        ci.city,
        co.country,
        c.store_id
    from customers as c
    join staging_address as a on c.address_id = a.address_id
    join staging_city as ci on a.city_id = ci.city_id
    join staging_country as co on ci.country_id = co.country_id
)

select * from final
