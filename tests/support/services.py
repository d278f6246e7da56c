"""Where the PostgreSQL and Redis the infrastructure tests use are, and whether they answer."""

from __future__ import annotations

import os
from typing import Optional

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def postgres_missing() -> Optional[str]:
    """Why PostgreSQL cannot be used here (said in one line), or None."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means: skip, saying why
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(error).__name__}: {error}"
    return None


def redis_missing() -> Optional[str]:
    """Why Redis cannot be used here (said in one line), or None."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except Exception as error:  # any failure to connect means: skip, saying why
        return f"Redis not reachable at {REDIS_URL}: {type(error).__name__}: {error}"
    return None
