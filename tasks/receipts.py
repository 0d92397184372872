"""Fetching the month's documents: the electronic receipt of every paid order (SFT0506, then its
``receiptUrl``) and the tax payment certificates (SFT1001, then each ``fileUrl``), into the month's
folder (lingong_store.documents). What the folder already holds, verified by size and hash, is not
asked for again; a receipt stored before its order bounced is kept and marked void.

One task per kind of document, with bounded concurrency inside: the number of task runs does not grow
with the number of orders.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
from prefect import task

from lingong_core.errors import BusinessError, NotFoundError
from lingong_core.models.tax_certificate import TaxCertificate
from lingong_payroll.month_close import DocumentLine
from lingong_payroll.orders import PlatformOrder
from lingong_store.documents import CERTIFICATES, RECEIPTS, MonthFolder, safe_name

from .common import PLATFORM_TASK, open_client, retry_if_busy

CONCURRENCY = 8
RECEIPT, CERTIFICATE = "receipt", "tax certificate"


class DownloadError(RuntimeError):
    """A document URL did not answer the document (the message says what it answered)."""


async def _download(http: httpx.AsyncClient, url: str) -> bytes:
    answer = await http.get(url)
    if answer.status_code != 200:
        raise DownloadError(f"HTTP {answer.status_code} from the document URL")
    data = answer.content
    declared = answer.headers.get("content-length")
    if not data or (declared is not None and int(declared) != len(data)):
        raise DownloadError(f"a short download ({len(data)} of {declared or '?'} bytes)")
    return data


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(30.0), follow_redirects=True)


@task(name="fetch-receipts", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def fetch_receipts(
    orders: Sequence[PlatformOrder],
    tax_base_code: str,
    month: str,
    root: str | None = None,
    credentials_block: str | None = None,
) -> list[DocumentLine]:
    """The receipt of each SUCCESS order, fetched unless stored; a bounced order's stored receipt marked void."""
    folder = MonthFolder(tax_base_code, month, root)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with open_client(credentials_block) as client, _http() as http:

        async def one(order: PlatformOrder) -> DocumentLine:
            name = f"{RECEIPTS}/{safe_name(order.out_order_no)}.pdf"
            kept = folder.stored(name)
            number = str(folder.entries.get(name, {}).get("receiptNo", ""))
            if order.status != "SUCCESS":
                if kept is not None:
                    folder.note(name, void=f"the order is {order.status} since")
                    return DocumentLine(
                        kind=RECEIPT,
                        number=number,
                        key=order.out_order_no,
                        state="void",
                        detail=f"stored before the order became {order.status}; {order.fail_msg}".strip("; "),
                        file=name,
                    )
                why = f"the order is {order.status}" + (f": {order.fail_msg}" if order.fail_msg else "")
                if order.status == "BOUNCED":  # the platform says when it bounced and which refund came back
                    async with gate:
                        try:
                            await client.settlement.receipt(out_order_no=order.out_order_no)
                        except (BusinessError, NotFoundError) as exc:
                            why = exc.msg
                return DocumentLine(kind=RECEIPT, number="", key=order.out_order_no, state="unavailable", detail=why)
            if kept is not None:
                return DocumentLine(
                    kind=RECEIPT, number=number, key=order.out_order_no, state="already stored", file=name
                )
            async with gate:
                try:
                    receipt = await client.settlement.receipt(out_order_no=order.out_order_no)
                    data = await _download(http, receipt.receipt_url)
                except (BusinessError, NotFoundError) as exc:
                    return DocumentLine(
                        kind=RECEIPT,
                        number="",
                        key=order.out_order_no,
                        state="unavailable",
                        detail=f"[{exc.code}] {exc.msg}",
                    )
                except (DownloadError, httpx.TransportError) as exc:
                    return DocumentLine(
                        kind=RECEIPT, number="", key=order.out_order_no, state="unavailable", detail=f"download: {exc}"
                    )
            number = receipt.receipt_no or ""
            folder.put(
                name,
                data,
                receiptNo=number,
                outOrderNo=order.out_order_no,
                orderNo=order.order_no,
                amount=f"{order.amount:.2f}",
                receiptTime=f"{receipt.receipt_time:%Y-%m-%d %H:%M:%S}" if receipt.receipt_time else "",
            )
            return DocumentLine(kind=RECEIPT, number=number, key=order.out_order_no, state="fetched", file=name)

        lines = await asyncio.gather(*(one(o) for o in orders))
    folder.save()
    return list(lines)


@task(name="fetch-tax-certificates", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def fetch_certificates(
    tax_base_code: str, month: str, root: str | None = None, credentials_block: str | None = None
) -> list[DocumentLine]:
    """Every tax certificate of the month (SFT1001), fetched unless stored; pending ones reported as such."""
    folder = MonthFolder(tax_base_code, month, root)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with open_client(credentials_block) as client, _http() as http:
        certificates = [
            c
            async for c in client.tax_certificate.certificates.iter(
                tax_base_code=tax_base_code, period=month, page_size=1000
            )
        ]

        async def one(c: TaxCertificate) -> DocumentLine:
            number = c.certificate_no
            name = f"{CERTIFICATES}/{safe_name(number)}.pdf"
            what = f"income {c.income_amount:.2f}, tax {c.tax_amount:.2f}"
            if folder.stored(name) is not None:
                return DocumentLine(
                    kind=CERTIFICATE, number=number, key=month, state="already stored", detail=what, file=name
                )
            url = c.file_url
            if not url:
                status = str((c.model_extra or {}).get("status", "")) or "not issued"
                return DocumentLine(
                    kind=CERTIFICATE, number=number, key=month, state="pending", detail=f"{status.lower()}; {what}"
                )
            async with gate:
                try:
                    data = await _download(http, url)
                except (DownloadError, httpx.TransportError) as exc:
                    return DocumentLine(
                        kind=CERTIFICATE, number=number, key=month, state="unavailable", detail=f"download: {exc}"
                    )
            folder.put(
                name,
                data,
                certificateNo=number,
                freelancerNo=c.freelancer_no or "",
                period=c.period,
                incomeAmount=f"{c.income_amount:.2f}",
                taxAmount=f"{c.tax_amount:.2f}",
            )
            return DocumentLine(kind=CERTIFICATE, number=number, key=month, state="fetched", detail=what, file=name)

        lines = await asyncio.gather(*(one(c) for c in certificates))
    folder.save()
    return list(lines)
