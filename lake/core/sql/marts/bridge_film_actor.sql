-- bridge_film_actor: one row per (film_id, actor_id) pair, the many-to-many
-- link between dim_film and dim_actor; for the films in bridge_film_actor_keys.
with final as (
    select
        film_id,
        actor_id
    from staging_film_actor
    where film_id in (select film_id from bridge_film_actor_keys)
)

select * from final
