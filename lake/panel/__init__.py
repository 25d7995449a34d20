"""The control panel: pages, the /api/lake/ API, forms and schedules of the lake."""
