-- Films whose rows in bridge_film_actor must be rebuilt: their cast changed.
select film_id from changed_film_actor
