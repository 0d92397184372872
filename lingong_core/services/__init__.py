"""Service methods: one small class per menu group, attached to both clients.

``client.recharge.sync(...)``, ``client.settlement.submit(...)``, ``client.freelancer.verify(...)`` …
each make one call and return the parsed response model; on :class:`~lingong_core.client.AsyncLingongClient`
the same attributes are awaitable. Paged queries also have ``.pages(...)`` and ``.iter(...)``.
Each method accepts a request model or its fields as keywords, and an optional ``request_no=``.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from .account import AccountService
from .base import AsyncCaller, Endpoint, PagedEndpoint, Service, SyncCaller
from .contract import ContractService
from .enterprise import EnterpriseService
from .freelancer import FreelancerService
from .invoice import InvoiceService
from .marketing import MarketingService
from .notification import NotificationService
from .project import ProjectService
from .recharge import RechargeService
from .refund import RefundService
from .settlement import SettlementService
from .tax_certificate import TaxCertificateService
from .withdrawal import WithdrawalService

C = TypeVar("C")

#: attribute on the client → service class, one per menu group (operations.Group's values).
SERVICE_CLASSES: dict[str, type[Service[object]]] = {
    "freelancer": FreelancerService,
    "contract": ContractService,
    "account": AccountService,
    "recharge": RechargeService,
    "withdrawal": WithdrawalService,
    "settlement": SettlementService,
    "refund": RefundService,
    "invoice": InvoiceService,
    "project": ProjectService,
    "tax_certificate": TaxCertificateService,
    "notification": NotificationService,
    "enterprise": EnterpriseService,
    "marketing": MarketingService,
}


class ServiceGroups(Generic[C]):
    """Mixed into both clients: one attribute per menu group."""

    freelancer: FreelancerService[C]
    contract: ContractService[C]
    account: AccountService[C]
    recharge: RechargeService[C]
    withdrawal: WithdrawalService[C]
    settlement: SettlementService[C]
    refund: RefundService[C]
    invoice: InvoiceService[C]
    project: ProjectService[C]
    tax_certificate: TaxCertificateService[C]
    notification: NotificationService[C]
    enterprise: EnterpriseService[C]
    marketing: MarketingService[C]

    def _attach_services(self, client: C) -> None:
        self.freelancer = FreelancerService(client)
        self.contract = ContractService(client)
        self.account = AccountService(client)
        self.recharge = RechargeService(client)
        self.withdrawal = WithdrawalService(client)
        self.settlement = SettlementService(client)
        self.refund = RefundService(client)
        self.invoice = InvoiceService(client)
        self.project = ProjectService(client)
        self.tax_certificate = TaxCertificateService(client)
        self.notification = NotificationService(client)
        self.enterprise = EnterpriseService(client)
        self.marketing = MarketingService(client)


__all__ = [
    "SERVICE_CLASSES",
    "AccountService",
    "AsyncCaller",
    "ContractService",
    "Endpoint",
    "EnterpriseService",
    "FreelancerService",
    "InvoiceService",
    "MarketingService",
    "NotificationService",
    "PagedEndpoint",
    "ProjectService",
    "RechargeService",
    "RefundService",
    "Service",
    "ServiceGroups",
    "SettlementService",
    "SyncCaller",
    "TaxCertificateService",
    "WithdrawalService",
]
