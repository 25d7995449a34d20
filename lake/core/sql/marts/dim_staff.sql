-- dim_staff: one row per staff member (staff_id unique), without password
-- or picture; for the staff in dim_staff_keys.
with staff as (
    select *
    from staging_staff
    where staff_id in (select staff_id from dim_staff_keys)
),

final as (
    select
        s.staff_id,
        s.first_name,
        s.last_name,
        s.first_name || ' ' || s.last_name as full_name,
        s.email,
        s.username,
        s.active,
        s.store_id,
        a.address,
        ci.city,
        co.country
    from staff as s
    join staging_address as a on s.address_id = a.address_id
    join staging_city as ci on a.city_id = ci.city_id
    join staging_country as co on ci.country_id = co.country_id
)

select * from final
