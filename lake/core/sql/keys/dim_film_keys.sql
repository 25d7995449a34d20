-- Films whose dim_film row must be rebuilt: the film, its category link, a
-- category's name, its language or its cast changed.
select film_id from changed_film
union
select film_id from changed_film_category
union
select fc.film_id
from staging_film_category as fc
join changed_category as c on fc.category_id = c.category_id
union
select f.film_id
from staging_film as f
join changed_language as l on f.language_id = l.language_id or f.original_language_id = l.language_id
union
select film_id from changed_film_actor
