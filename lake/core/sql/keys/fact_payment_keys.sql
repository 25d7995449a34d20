-- Payments whose fact_payment row must be rebuilt: the payment changed, or
-- its staff member did (store_id is the staff's store).
select payment_id from changed_payment
union
select p.payment_id
from staging_payment as p
join changed_staff as s on p.staff_id = s.staff_id
