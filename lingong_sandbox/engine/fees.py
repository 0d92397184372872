"""The service fee: one rule, used by both the pre-calculation (SFT0501) and the settlement (SFT0502).

``fee(order) = round_half_up(amount × fee_rate, 0.01)`` per order; a batch's fee is the sum of its
orders' fees (never the rate applied to the batch total, which can differ by a fen per order).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from lingong_core.money import CENT

from ..settings import ServiceProvider


def order_fee(amount: Decimal, provider: ServiceProvider) -> Decimal:
    return (amount * provider.fee_rate).quantize(CENT, rounding=ROUND_HALF_UP)


def batch_fee(amounts: Iterable[Decimal], provider: ServiceProvider) -> Decimal:
    return sum((order_fee(a, provider) for a in amounts), Decimal("0.00"))
