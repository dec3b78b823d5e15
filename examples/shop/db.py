"""Engines, session factories and the request-scoped session dependency."""
from collections.abc import AsyncIterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

DATABASE_URL = "postgresql+asyncpg://shop:shop@db:5432/shop"
REPLICA_URL = "postgresql+asyncpg://shop:shop@replica:5432/shop"

# ok: one pooled engine per process; pool_pre_ping replaces connections the server dropped
engine = create_async_engine(DATABASE_URL, pool_size=10, max_overflow=5, pool_pre_ping=True)

# ok: expire_on_commit=False keeps ORM objects readable after commit()
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

# ASL503: no pool_pre_ping: after a replica failover the first queries get dead connections
reporting_engine = create_async_engine(REPLICA_URL, pool_size=5)

# ASL303: expire_on_commit defaults to True: reading an attribute after commit() is implicit IO
ReportingSession = async_sessionmaker(reporting_engine)

# Sync engine and factory kept for the Alembic migrations and the nightly batch scripts.
legacy_engine = create_engine(DATABASE_URL.replace("+asyncpg", "+psycopg2"), pool_pre_ping=True)
LegacySession = sessionmaker(legacy_engine)  # ok: building a sync factory is not a sin

# ASL305: one AsyncSession for the whole process, shared by every request and task
audit_session = AsyncSession(engine, expire_on_commit=False)


async def get_db() -> AsyncIterator[AsyncSession]:
    # ok: one session per request, closed by the context manager when the request ends
    async with SessionLocal() as session:
        yield session
