"""What the sandbox platform starts with: one merchant, two service providers, delays and outcome rates.

Every default is documented here and overridable (CLI flags, the admin endpoint, or the constructor in
tests). Delays are in simulated seconds and are divided by ``time_scale`` (``time_scale=1000`` turns a
30-second settlement into 30 ms).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from lingong_core.signing import SignAlgorithm

DEFAULT_MERCHANT_NO = "1088202103120003"  # the seed's merchant number


@dataclass
class ServiceProvider:
    """A tax-base service provider (服务商) and the rules it applies."""

    tax_base_code: str
    name: str
    fee_rate: Decimal  # service fee as a fraction of the payout, rounded half-up to the fen per order
    per_order_limit: Decimal  # the largest single payout to one person
    monthly_limit: Decimal  # the most one person may be paid in a calendar month (Asia/Shanghai)
    invoice_categories: tuple[str, ...] = ("*现代服务*服务费", "*经纪代理服务*代理服务费")


@dataclass
class MerchantConfig:
    merchant_no: str = DEFAULT_MERCHANT_NO
    name: str = "灵工示例科技有限公司"
    public_key_pem: str = ""  # the key the merchant registered; requests are verified with it
    sign_algorithm: SignAlgorithm = SignAlgorithm.SHA256_WITH_RSA
    notify_url: str | None = None
    legal_person: str = "王建国"  # 法定代表人 (SFT0901 answers it masked, as the contact below)
    contact_name: str = "李晓梅"
    contact_mobile: str = "13900001234"
    create_time: str = "2021-03-12 10:00:00"  # when the merchant was registered (its number carries the date)
    luhn_strict: bool = False  # reject (rather than only flag) cards failing the Luhn check
    enabled: bool = True


def default_providers() -> list[ServiceProvider]:
    return [
        ServiceProvider(
            "2000064001", "海南灵工税务服务有限公司", Decimal("0.0600"), Decimal("50000.00"), Decimal("100000.00")
        ),
        ServiceProvider(
            "2000064002", "江西灵工人力资源服务有限公司", Decimal("0.0650"), Decimal("20000.00"), Decimal("98000.00")
        ),
    ]


@dataclass
class Delays:
    """Simulated seconds before a background transition (divided by ``SandboxSettings.time_scale``)."""

    recharge: float = 5.0  # PROCESSING → SUCCESS/FAILED
    settlement_start: float = 2.0  # ACCEPTED → PROCESSING
    settlement_finish: float = 10.0  # PROCESSING → SUCCESS/FAILED
    bounce: float = 60.0  # SUCCESS → BOUNCED, for the orders chosen to bounce
    contract_sign: float = 5.0  # SIGNING → SIGNED
    invoice: float = 30.0  # APPLIED → ISSUED/REJECTED
    withdrawal: float = 10.0


@dataclass
class Outcomes:
    """Rates of the unhappy outcomes, drawn deterministically from ``seed`` and the order number."""

    settlement_fail_rate: float = 0.0
    bounce_rate: float = 0.0
    recharge_fail_rate: float = 0.0
    invoice_reject_rate: float = 0.0


@dataclass
class SandboxSettings:
    merchant: MerchantConfig = field(default_factory=MerchantConfig)
    providers: list[ServiceProvider] = field(default_factory=default_providers)
    delays: Delays = field(default_factory=Delays)
    outcomes: Outcomes = field(default_factory=Outcomes)
    time_scale: float = 1.0
    seed: int = 0
    min_age: int = 18
    max_age: int = 65
    timestamp_window_seconds: int = 300
    #: How far ahead of the platform's clock a reported time (SFT0404 rechargeTime, SFT0510 payTime) may be.
    clock_skew_seconds: int = 300
    request_no_ttl_seconds: int = 24 * 3600
    max_batch_orders: int = 1000
    max_page_size: int = 1000
    #: Base of the document URLs SFT0506/SFT1001 answer (receipts, tax certificates); the server sets it
    #: to its own base URL when it starts, where ``GET /files/…`` serves them.
    files_url: str = ""

    def provider(self, tax_base_code: str) -> ServiceProvider | None:
        return next((p for p in self.providers if p.tax_base_code == tax_base_code), None)

    def scaled(self, simulated_seconds: float) -> float:
        """Real seconds for a simulated delay."""
        return simulated_seconds / self.time_scale if self.time_scale > 0 else 0.0
