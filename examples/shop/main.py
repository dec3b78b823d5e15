"""HTTP API of the shop service."""
import asyncio
import csv
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel
from redis import asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import clients, services
from .db import engine, get_db
from .helpers import render_invoice_pdf
from .models import Customer, Order

EXPORT_DIR = Path("/var/lib/shop/exports")
TAX_API_URL = "https://tax.example.com"

DbSession = Annotated[AsyncSession, Depends(get_db)]  # ok: one session per request via Depends
_inflight: set[asyncio.Task[None]] = set()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # ok: one shared HTTP client for the whole process, closed on shutdown
    app.state.http = httpx.AsyncClient(timeout=10)
    # ASL502: the rate-limit Redis pool is never closed (no aclose() anywhere in this module)
    app.state.redis = aioredis.from_url("redis://cache:6379/0", decode_responses=True)
    outbox = asyncio.create_task(services.outbox_worker())  # ok: kept, cancelled and awaited
    try:
        yield
    finally:
        outbox.cancel()
        try:
            await outbox
        except asyncio.CancelledError:  # ok: the cancel-then-await idiom
            pass
        # ok: reaping background tasks at shutdown; return_exceptions=True collects every outcome
        await asyncio.gather(*_inflight, return_exceptions=True)
        await app.state.http.aclose()
        await clients.payments.aclose()
        await clients.geo.aclose()
        await clients.events_bus.aclose()
        await engine.dispose()


app = FastAPI(title="shop", lifespan=lifespan)
router = APIRouter(prefix="/admin", tags=["admin"])


async def get_tax_api() -> AsyncIterator[httpx.AsyncClient]:
    # ASL501: a new connection pool (and TLS handshake) for every request; use app.state.http
    async with httpx.AsyncClient(base_url=TAX_API_URL, timeout=5) as client:
        yield client


TaxApi = Annotated[httpx.AsyncClient, Depends(get_tax_api)]


class OrderLine(BaseModel):
    sku: str
    quantity: int
    unit_price: Decimal


class OrderIn(BaseModel):
    customer_id: int
    card_token: str
    lines: list[OrderLine]


class PaymentEvent(BaseModel):
    order_id: int
    status: str


# ASL402: on_event is deprecated, and with lifespan= set FastAPI never even calls this handler
@app.on_event("startup")
async def warm_catalog_cache() -> None:
    # ASL106: asyncio.run() inside a running event loop raises RuntimeError
    asyncio.run(services.preload_catalog())


@app.get("/health")
async def health(request: Request) -> dict[str, str]:
    await request.app.state.redis.ping()  # ok: redis.asyncio, awaited
    return {"status": "ok"}


@app.post("/orders", status_code=201)
async def create_order(payload: OrderIn, session: DbSession) -> dict[str, object]:
    customer = await session.get(Customer, payload.customer_id)
    if customer is None:
        raise HTTPException(status_code=404, detail="unknown customer")
    lines = [(line.sku, line.quantity, line.unit_price) for line in payload.lines]
    order = await services.place_order(session, customer, lines)
    await services.authorize_payment(order, payload.card_token)
    await session.commit()
    # ASL103: fire-and-forget: nothing holds the task, it can be garbage-collected mid-flight
    asyncio.create_task(services.send_receipt(order.id))
    # ok: a strong reference is kept until the task is done
    task = asyncio.create_task(services.notify_warehouse(order.id))
    _inflight.add(task)
    task.add_done_callback(_inflight.discard)
    return {"id": order.id, "status": order.status, "total": str(order.total)}


@app.post("/orders/{order_id}/capture")
async def capture_order(order_id: int, session: DbSession) -> dict[str, str]:
    order = await session.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404)
    order.status = await services.capture_payment(order)
    await session.commit()
    return {"status": order.status}


@app.get("/orders/{order_id}/invoice")
async def invoice(order_id: int, session: DbSession, tax: TaxApi) -> Response:
    order = await session.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404)
    resp = await tax.get("/rates", params={"region": order.customer.region})
    html = f"<h1>Invoice {order.id}</h1><p>{order.total} incl. VAT {resp.json()['rate']}</p>"
    # ASL207: render_invoice_pdf() -> subprocess.run(): the loop waits for the whole render
    pdf = render_invoice_pdf(order.id, html)
    return Response(pdf, media_type="application/pdf")


@app.delete("/orders/{order_id}", status_code=204)
async def cancel_order(order_id: int, session: DbSession) -> None:
    order = await session.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404)
    await clients.refund(order.id, order.total)
    # ASL304: AsyncSession.delete() is a coroutine: without await nothing is deleted
    session.delete(order)
    await session.commit()
    await services.record_audit("order.cancelled", order_id)


@app.get("/customers/{customer_id}/dashboard")
async def dashboard(customer_id: int, session: DbSession) -> dict[str, object]:
    return await services.customer_dashboard(session, customer_id)


@app.get("/postcodes/{postcode}")
async def postcode_lookup(postcode: str) -> dict:
    return await clients.geo.lookup(postcode)  # ok: shared aiohttp session


@router.get("/orders/export")
async def export_orders(session: DbSession) -> dict[str, str]:
    rows = (await session.execute(select(Order.id, Order.status, Order.total))).all()
    path = EXPORT_DIR / f"orders-{datetime.now(UTC):%Y%m%d}.csv"
    # ASL204: blocking file write on the event loop (use aiofiles or asyncio.to_thread)
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    # ASL203: gzip runs as a blocking child process (use asyncio.create_subprocess_exec)
    subprocess.run(["gzip", "-f", str(path)], check=True)
    return {"file": f"{path}.gz"}


@router.post("/orders/recalculate")
async def recalculate(order_ids: list[int], session: DbSession) -> dict[str, int]:
    return {"updated": await services.recalculate_totals(session, order_ids)}


@router.get("/reports/sales")
async def sales_report() -> dict[str, int]:
    return await services.sales_report()


@router.get("/reports/inventory")
async def inventory_report() -> list[tuple[str, int]]:
    return await services.legacy_inventory_report()


@router.post("/webhooks/payments")
async def payment_webhook(event: PaymentEvent) -> dict[str, str]:
    # ASL401: the handler builds its own session instead of taking DbSession via Depends
    async with AsyncSession(engine, expire_on_commit=False) as session:
        order = await session.get(Order, event.order_id)
        if order is None:
            raise HTTPException(status_code=404)
        order.status = event.status
        await session.commit()
    return {"status": "ok"}


app.include_router(router)
