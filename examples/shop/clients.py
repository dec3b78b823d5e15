"""Outbound integrations: payment gateway, stock cache, event bus, postcode lookup."""
from decimal import Decimal

import aiohttp
import httpx
import redis
import redis.asyncio as aioredis
import requests

PAYMENTS_URL = "https://payments.example.com/v2"

# ok: module-level async Redis pool, shared by everyone and closed in the app's lifespan
events_bus = aioredis.from_url("redis://cache:6379/2")

# Sync Redis client inherited from the old Flask app.
stock_cache = redis.Redis(host="cache", port=6379, decode_responses=True)


class PaymentsGateway:
    def __init__(self, base_url: str) -> None:
        # ok: one pooled AsyncClient for the gateway, closed in aclose()
        self._http = httpx.AsyncClient(base_url=base_url, timeout=10)

    async def authorize(self, order_id: int, amount: Decimal, card_token: str) -> str:
        resp = await self._http.post(
            "/authorizations",
            json={"order_id": order_id, "amount": str(amount), "token": card_token},
        )
        resp.raise_for_status()
        return resp.json()["id"]

    async def capture(self, order_id: int) -> None:
        resp = await self._http.post(f"/orders/{order_id}/capture")
        resp.raise_for_status()

    async def status(self, order_id: int) -> str:
        resp = await self._http.get(f"/orders/{order_id}")
        resp.raise_for_status()
        return resp.json()["status"]

    async def aclose(self) -> None:
        await self._http.aclose()


async def refund(order_id: int, amount: Decimal) -> None:
    # ASL202: requests is synchronous: the whole server stalls for the gateway round trip
    resp = requests.post(
        f"{PAYMENTS_URL}/refunds",
        json={"order_id": order_id, "amount": str(amount)},
        timeout=10,
    )
    resp.raise_for_status()


async def reserved_stock(sku: str) -> int:
    # ASL205: sync redis client: a blocking network round trip on the event loop
    return int(stock_cache.get(f"stock:{sku}") or 0)


class GeoClient:
    """Postcode lookup over one lazily created, shared aiohttp session."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._session: aiohttp.ClientSession | None = None

    async def lookup(self, postcode: str) -> dict:
        # ok: lazy singleton, created once under a None guard and closed in aclose()
        if self._session is None:
            self._session = aiohttp.ClientSession(base_url=self._base_url)
        # ok: an aiohttp ClientSession named "session" is not an AsyncSession
        async with self._session.get(f"/postcodes/{postcode}") as resp:
            resp.raise_for_status()
            return await resp.json()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


payments = PaymentsGateway(PAYMENTS_URL)
geo = GeoClient("https://geo.example.com")
