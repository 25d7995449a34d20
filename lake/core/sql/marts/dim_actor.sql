-- dim_actor: one row per actor (actor_id unique) with their number of
-- films; for the actors in dim_actor_keys.
with actors as (
    select *
    from staging_actor
    where actor_id in (select actor_id from dim_actor_keys)
),

film_counts as (
    select actor_id, count(*) as film_count
    from staging_film_actor
    where actor_id in (select actor_id from dim_actor_keys)
    group by actor_id
),

final as (
    select
        a.actor_id,
        a.first_name,
        a.last_name,
        a.first_name || ' ' || a.last_name as full_name,
        coalesce(fc.film_count, 0) as film_count
    from actors as a
    left join film_counts as fc on a.actor_id = fc.actor_id
)

select * from final
