"""Where the PostgreSQL and Redis the infrastructure tests use are, and whether they answer."""

from __future__ import annotations

import os
from typing import NoReturn, Optional

import pytest

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


def in_ci() -> bool:
    """True where CI runs the suite (`CI=true`, the variable CI services set)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip a PostgreSQL or Redis test, saying why; under CI=true fail instead.

    This project's CI machines start both services before the suite, so a missing one
    there means the tests that guard the production profile did not run: a failure.
    """
    print(f"SKIP: {reason}")
    if in_ci():
        pytest.fail(f"CI=true and a service these tests need is missing: {reason}")
    pytest.skip(reason)
