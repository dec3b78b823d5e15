"""Order workflows used by the HTTP handlers and the background worker."""
import asyncio
import logging
import time
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from . import clients
from .db import ReportingSession, SessionLocal, audit_session, legacy_engine
from .helpers import WarehouseLabelPrinter, load_tax_rates, render_invoice_pdf, retry_backoff
from .models import Customer, Order, OrderEvent, OrderItem

logger = logging.getLogger(__name__)


class PaymentDeclined(Exception):
    pass


async def place_order(
    session: AsyncSession, customer: Customer, lines: list[tuple[str, int, Decimal]]
) -> Order:
    vat = load_tax_rates().get(customer.region, Decimal("0"))  # ok: lru_cache'd, reads once
    order = Order(customer_id=customer.id, status="pending")
    for sku, quantity, unit_price in lines:
        if await clients.reserved_stock(sku) < quantity:
            raise ValueError(f"out of stock: {sku}")
        order.items.append(OrderItem(sku=sku, quantity=quantity, unit_price=unit_price))
    order.total = sum((i.unit_price * i.quantity for i in order.items), Decimal("0")) * (1 + vat)
    session.add(order)
    # ASL304: flush() is a coroutine: never awaited, the INSERT never runs and order.id stays None
    session.flush()
    session.add(OrderEvent(order_id=order.id, kind="order.placed"))
    return order


async def authorize_payment(order: Order, card_token: str) -> str:
    for attempt in range(3):
        try:
            # ASL104: wait_for wraps the call in an extra task; prefer asyncio.timeout(5)
            return await asyncio.wait_for(
                clients.payments.authorize(order.id, order.total, card_token), timeout=5
            )
        except TimeoutError:
            logger.warning("payment gateway timed out (attempt %d)", attempt + 1)
            # ASL207: retry_backoff() -> time.sleep(): every request waits out the back-off
            retry_backoff(attempt)
    raise PaymentDeclined(f"gateway unavailable for order {order.id}")


async def capture_payment(order: Order) -> str:
    # ok: asyncio.timeout() is the 3.11 way to bound an await
    async with asyncio.timeout(5):
        await clients.payments.capture(order.id)
    for _ in range(10):
        status = await clients.payments.status(order.id)
        if status != "pending":
            return status
        # ASL201: time.sleep freezes the event loop; use `await asyncio.sleep(0.5)`
        time.sleep(0.5)
    return "pending"


async def _load_customer(session: AsyncSession, customer_id: int) -> Customer | None:
    return await session.get(Customer, customer_id)


async def _recent_orders(session: AsyncSession, customer_id: int) -> list[Order]:
    stmt = select(Order).where(Order.customer_id == customer_id).order_by(Order.created_at.desc())
    return list(await session.scalars(stmt.limit(10)))


async def customer_dashboard(session: AsyncSession, customer_id: int) -> dict[str, object]:
    # ASL101: if one query fails the other keeps running unsupervised; prefer a TaskGroup
    customer, orders = await asyncio.gather(
        # ASL302: one AsyncSession used by two concurrent coroutines (it is not concurrency-safe)
        _load_customer(session, customer_id),
        _recent_orders(session, customer_id),  # ASL302: the second spawn sharing it
    )
    return {"email": customer.email if customer else None, "orders": [o.id for o in orders]}


async def _recalculate_total(session: AsyncSession, order_id: int) -> None:
    order = await session.get(Order, order_id)
    if order is None:
        raise ValueError(f"unknown order {order_id}")
    order.total = sum((i.unit_price * i.quantity for i in order.items), Decimal("0"))


async def recalculate_totals(session: AsyncSession, order_ids: list[int]) -> int:
    try:
        async with asyncio.TaskGroup() as tg:
            for order_id in order_ids:
                # ASL302: every task in the loop shares one session (one connection)
                tg.create_task(_recalculate_total(session, order_id))
    # ASL105: the TaskGroup raises an ExceptionGroup, so this handler never runs (needs except*)
    except ValueError:
        logger.warning("recalculation skipped: unknown order in %s", order_ids)
        return 0
    await session.commit()
    return len(order_ids)


async def sales_report() -> dict[str, int]:
    async def count(status: str) -> int:
        # ok: each task opens its own session
        async with ReportingSession() as rs:
            return await rs.scalar(select(func.count(Order.id)).where(Order.status == status)) or 0

    # ok: TaskGroup, and no session crosses a task boundary
    async with asyncio.TaskGroup() as tg:
        paid = tg.create_task(count("paid"))
        refunded = tg.create_task(count("refunded"))
    return {"paid": paid.result(), "refunded": refunded.result()}


async def legacy_inventory_report() -> list[tuple[str, int]]:
    # ASL206: a sync ORM Session doing blocking queries straight from async code
    session = Session(legacy_engine)
    try:
        stmt = select(OrderItem.sku, func.sum(OrderItem.quantity)).group_by(OrderItem.sku)
        rows = session.execute(stmt).all()
    finally:
        session.close()  # ok: a sync Session's close() is not a coroutine (no ASL304)
    return [(sku, int(qty)) for sku, qty in rows]


async def record_audit(kind: str, order_id: int) -> None:
    audit_session.add(OrderEvent(order_id=order_id, kind=kind))
    try:
        await audit_session.commit()
    except asyncio.CancelledError:  # ok: rolls back, then lets the cancellation propagate
        await audit_session.rollback()
        raise


async def send_receipt(order_id: int) -> None:
    html = f"<h1>Receipt for order {order_id}</h1>"
    # ok: the blocking renderer is handed to a worker thread, not called on the loop
    pdf = await asyncio.to_thread(render_invoice_pdf, order_id, html)
    await clients.events_bus.xadd("receipts", {"order_id": order_id, "bytes": len(pdf)})


async def notify_warehouse(order_id: int) -> None:
    # ASL207: WarehouseLabelPrinter() -> __init__ -> time.sleep() blocks the loop
    printer = WarehouseLabelPrinter(host="zebra-01.warehouse")
    await asyncio.to_thread(printer.print_label, order_id)  # ok: handed over, not called


async def preload_catalog() -> None:
    async with SessionLocal() as session:
        await session.execute(select(OrderItem.sku).distinct().limit(1000))


async def outbox_worker(poll_interval: float = 1.0) -> None:
    """Publish unpublished OrderEvents to the event bus, forever."""
    while True:
        try:
            async with SessionLocal() as session:
                stmt = select(OrderEvent).where(OrderEvent.published_at.is_(None)).limit(100)
                for event in await session.scalars(stmt):
                    await clients.events_bus.xadd("orders", {"kind": event.kind, "id": event.id})
                    event.published_at = datetime.now(UTC)
                await session.commit()
            await asyncio.sleep(poll_interval)
        # ASL107 (opt-in): swallows the cancellation and polls on: shutdown waits for it forever
        except asyncio.CancelledError:
            logger.info("outbox worker interrupted; polling again")
            continue
        except Exception:  # ok: Exception does not catch CancelledError
            logger.exception("outbox worker failed; retrying")
            await asyncio.sleep(poll_interval)


async def notify_stock_low(sku: str) -> None:
    """Best effort: a failed alert must not fail the order that triggered it."""
    try:
        await clients.events_bus.xadd("alerts", {"kind": "stock-low", "sku": sku})
    # ASL102: BaseException catches the cancellation too: the caller's timeout never fires
    except BaseException:
        logger.warning("could not raise the stock alert for %s", sku)
