"""Glue job entry script (filled in by the glue_jobs work)."""
