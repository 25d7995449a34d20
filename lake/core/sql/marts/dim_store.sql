-- dim_store: one row per store (store_id unique) with its manager and
-- address; for the stores in dim_store_keys.
with stores as (
    select *
    from staging_store
    where store_id in (select store_id from dim_store_keys)
),

final as (
    select
        s.store_id,
        s.manager_staff_id,
        m.first_name || ' ' || m.last_name as manager,
        a.address,
        a.district,
        a.postal_code,
        a.phone,
        ci.city,
        co.country
    from stores as s
    join staging_staff as m on s.manager_staff_id = m.staff_id
    join staging_address as a on s.address_id = a.address_id
    join staging_city as ci on a.city_id = ci.city_id
    join staging_country as co on ci.country_id = co.country_id
)

select * from final
