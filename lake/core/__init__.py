"""The lake itself: its tables, their writes and maintenance, the marts and their SQL.

Plain Python (pyiceberg, pyarrow, DuckDB, sqlglot): nothing here imports
Django or the rest of the project, so the Spark jobs and any script can use it.
"""
