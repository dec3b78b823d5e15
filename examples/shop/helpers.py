"""Sync helpers shared with the nightly batch scripts (fine there, a problem in async code)."""
import csv
import socket
import subprocess
import time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

TAX_TABLE = Path(__file__).with_name("tax_rates.csv")


def retry_backoff(attempt: int) -> None:
    """Exponential back-off between retries (written for the batch worker)."""
    time.sleep(min(0.2 * 2**attempt, 5.0))


def render_invoice_pdf(order_id: int, html: str) -> bytes:
    """Render an invoice with wkhtmltopdf (takes a second or two)."""
    result = subprocess.run(
        ["wkhtmltopdf", "--title", f"Invoice {order_id}", "-", "-"],
        input=html.encode(),
        capture_output=True,
        check=True,
    )
    return result.stdout


class WarehouseLabelPrinter:
    """Zebra label printer on the warehouse network."""

    def __init__(self, host: str) -> None:
        self.host = host
        time.sleep(0.3)  # the printers need a moment to wake up before the first job

    def print_label(self, order_id: int) -> None:
        with socket.create_connection((self.host, 9100), timeout=5) as conn:
            conn.sendall(f"^XA^FO50,50^ADN,36,20^FDOrder {order_id}^FS^XZ".encode())


@lru_cache
def load_tax_rates() -> dict[str, Decimal]:
    """Region -> VAT rate, read once per process (the cache makes it cheap to call anywhere)."""
    with open(TAX_TABLE, newline="") as fh:
        return {row["region"]: Decimal(row["rate"]) for row in csv.DictReader(fh)}
