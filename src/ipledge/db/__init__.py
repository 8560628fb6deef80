"""Database plumbing: the embedded PostgreSQL, the asyncpg pool, migrations."""
