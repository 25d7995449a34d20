-- Actors whose dim_actor row must be rebuilt: the actor or their films changed.
select actor_id from changed_actor
union
select actor_id from changed_film_actor
