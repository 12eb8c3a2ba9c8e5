"""What every layer stands on: the data home's settings (`home.py`), how its SQLite stores are opened
and written (`sqlite.py`), the shared PostgreSQL database (`postgres.py`, `postgres_access.py`, and a
throw-away cluster for tests and the cluster demo, `postgres_cluster.py`), and registries of parts by
name (`registry.py`). It imports no layer."""
