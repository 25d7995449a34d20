-- The last day with a rental in the lake (the dashboard's "last 30 days of data").
select cast(max(f.rental_date) as date) as last_day
from fact_sales f
