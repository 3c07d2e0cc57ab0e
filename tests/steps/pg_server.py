"""What the step tests share about their PostgreSQL server (the fixtures are in conftest.py)."""

PG_PASSWORD = "pg-s3cret-4b9d71"
"""The test server's password: asserted absent from every output, record and error."""


def sql(dsn: str, statement: str) -> int:
    """Run one statement upstream (as the owner); the rows it touched."""
    import psycopg

    with psycopg.connect(dsn, password=PG_PASSWORD, autocommit=True) as conn:
        return conn.execute(statement).rowcount
