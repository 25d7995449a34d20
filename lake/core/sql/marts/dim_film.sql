-- dim_film: one row per film (film_id unique) with its language, category
-- (the first by name when a film has several) and number of actors; for the
-- films in dim_film_keys.
with films as (
    select *
    from staging_film
    where film_id in (select film_id from dim_film_keys)
),

categories as (
    select fc.film_id, min(c.name) as category
    from staging_film_category as fc
    join staging_category as c on fc.category_id = c.category_id
    where fc.film_id in (select film_id from dim_film_keys)
    group by fc.film_id
),

actor_counts as (
    select film_id, count(*) as actor_count
    from staging_film_actor
    where film_id in (select film_id from dim_film_keys)
    group by film_id
),

final as (
    select
        f.film_id,
        f.title,
        f.description,
        f.release_year,
        trim(l.name) as language,
        trim(ol.name) as original_language,
        f.rating,
        f.length,
        f.rental_duration,
        f.rental_rate,
        f.replacement_cost,
        c.category,
        f.special_features,
        coalesce(ac.actor_count, 0) as actor_count
    from films as f
    join staging_language as l on f.language_id = l.language_id
    left join staging_language as ol on f.original_language_id = ol.language_id
    left join categories as c on f.film_id = c.film_id
    left join actor_counts as ac on f.film_id = ac.film_id
)

select * from final
