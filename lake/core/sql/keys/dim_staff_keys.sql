-- Staff whose dim_staff row must be rebuilt: the staff row or their address
-- (with its city and country) changed.
select staff_id from changed_staff
union
select s.staff_id
from staging_staff as s
join address_keys as a on s.address_id = a.address_id
