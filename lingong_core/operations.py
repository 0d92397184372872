"""The platform's menu of operations: every apiCode, its group, and whether it writes.

The list is the menu at the top of the platform's own documentation page
(``shared/seed/000_c3c250f912396431.txt``). Whether an operation *writes* decides the retry rule in
the client: a read may be repeated after an unknown outcome, a write never is (contract §5).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Group(StrEnum):
    FREELANCER = "freelancer"
    CONTRACT = "contract"
    ACCOUNT = "account"
    RECHARGE = "recharge"
    WITHDRAWAL = "withdrawal"
    SETTLEMENT = "settlement"
    REFUND = "refund"
    INVOICE = "invoice"
    PROJECT = "project"
    TAX_CERTIFICATE = "tax_certificate"
    NOTIFICATION = "notification"
    ENTERPRISE = "enterprise"
    MARKETING = "marketing"


@dataclass(frozen=True, slots=True)
class Operation:
    api_code: str
    group: Group
    title_zh: str
    title_en: str
    writes: bool
    offered: bool = True  # False for the two entries the platform marks 待开发

    @property
    def reads(self) -> bool:
        return not self.writes


_G = Group
_MENU: tuple[Operation, ...] = (
    # 自由职业者
    Operation("SFT0101", _G.FREELANCER, "实名认证", "Real-name verification", True),
    Operation("SFT0109", _G.FREELANCER, "实名认证+合同综合接口", "Verification and contract in one call", True),
    Operation("SFT0102", _G.FREELANCER, "身份证照片上传", "ID card photo upload", True),
    Operation("SFT0103", _G.FREELANCER, "自由职业者信息查询", "Freelancer query", False),
    Operation("SFT0202", _G.FREELANCER, "银行卡bin查询", "Bank card BIN lookup", False),
    Operation("SFT0201", _G.FREELANCER, "银行卡列表", "Bank card list", False),
    Operation("SFT0203", _G.FREELANCER, "银行卡绑定", "Bank card bind", True),
    Operation("SFT0204", _G.FREELANCER, "银行卡解绑", "Bank card unbind", True),
    Operation("SFT0110", _G.FREELANCER, "自由职业者身份证图片获取", "Freelancer ID card photo fetch", False),
    # 电子合同
    Operation("SFT0107", _G.CONTRACT, "合同预览", "Contract preview", False),
    Operation("SFT0104", _G.CONTRACT, "电子合同生成", "E-contract generation", True),
    Operation("SFT0105", _G.CONTRACT, "电子合同授权签约", "E-contract authorised signing", True),
    Operation("SFT0106", _G.CONTRACT, "电子合同信息查询", "E-contract query", False),
    Operation("SFT0108", _G.CONTRACT, "电子合同上传", "E-contract upload", True, offered=False),
    Operation("SFT0111", _G.CONTRACT, "自由职业者电子合同查询", "Freelancer's e-contracts query", False),
    # 存管账户
    Operation("SFT0301", _G.ACCOUNT, "服务商列表", "Service provider list", False),
    Operation("SFT0302", _G.ACCOUNT, "账户列表查询", "Account list", False),
    Operation("SFT0303", _G.ACCOUNT, "账户余额查询", "Account balance", False),
    Operation("SFT0304", _G.ACCOUNT, "充值账户查询", "Recharge account query", False),
    Operation("SFT0310", _G.ACCOUNT, "企业银行账户列表", "Enterprise bank account list", False),
    Operation("SFT0311", _G.ACCOUNT, "企业银行账户绑定", "Enterprise bank account bind", True),
    Operation("SFT0312", _G.ACCOUNT, "企业银行账户解绑", "Enterprise bank account unbind", True),
    Operation("SFT0305", _G.ACCOUNT, "账户变动明细", "Account ledger", False),
    # 充值
    Operation("SFT0401", _G.RECHARGE, "充值记录查询", "Recharge records", False),
    Operation("SFT0402", _G.RECHARGE, "充值申请", "Recharge application", True, offered=False),
    Operation("SFT0403", _G.RECHARGE, "充值订单查询", "Recharge order query", False),
    Operation("SFT0404", _G.RECHARGE, "充值数据同步", "Recharge data sync", True),
    # 用工企业提现
    Operation("SFT0411", _G.WITHDRAWAL, "提现订单列表", "Withdrawal order list", False),
    Operation("SFT0412", _G.WITHDRAWAL, "提现申请", "Withdrawal application", True),
    Operation("SFT0413", _G.WITHDRAWAL, "提现订单详情", "Withdrawal order detail", False),
    # 自由职业者佣金结算
    Operation("SFT0501", _G.SETTLEMENT, "佣金结算服务费预计算", "Service-fee pre-calculation", False),
    Operation("SFT0502", _G.SETTLEMENT, "佣金结算", "Settlement", True),
    Operation("SFT0503", _G.SETTLEMENT, "佣金结算批次查询", "Settlement batch query", False),
    Operation("SFT0504", _G.SETTLEMENT, "佣金结算批次订单查询", "Settlement batch orders query", False),
    Operation("SFT0505", _G.SETTLEMENT, "佣金结算订单查询", "Settlement order query", False),
    Operation("SFT0506", _G.SETTLEMENT, "电子回单查询", "Electronic receipt query", False),
    Operation("SFT0510", _G.SETTLEMENT, "佣金结算数据同步", "Settlement data sync", True),
    # 退款
    Operation("SFT0801", _G.REFUND, "退款订单查询", "Refund order query", False),
    Operation("SFT0802", _G.REFUND, "退款订单明细", "Refund order detail", False),
    # 开票
    Operation("SFT0601", _G.INVOICE, "开票类目查询", "Invoice categories", False),
    Operation("SFT0602", _G.INVOICE, "开票类型列表", "Invoice types", False),
    Operation("SFT0603", _G.INVOICE, "可开票批次查询", "Invoiceable batches", False),
    Operation("SFT0605", _G.INVOICE, "开票申请", "Invoice application", True),
    Operation("SFT0606", _G.INVOICE, "开票申请列表", "Invoice application list", False),
    Operation("SFT0607", _G.INVOICE, "开票申请详情", "Invoice application detail", False),
    Operation("SFT0608", _G.INVOICE, "开票申请关联订单列表", "Invoice application's orders", False),
    Operation("SFT0609", _G.INVOICE, "开票额度账户列表", "Invoice quota accounts", False),
    Operation("SFT0610", _G.INVOICE, "开票额度账户详情", "Invoice quota account detail", False),
    Operation("SFT0611", _G.INVOICE, "开票申请撤销", "Invoice application cancel", True),
    # 项目
    Operation("SFT0701", _G.PROJECT, "项目列表", "Project list", False),
    Operation("SFT0702", _G.PROJECT, "项目详情", "Project detail", False),
    Operation("SFT0703", _G.PROJECT, "项目新增", "Project create", True),
    Operation("SFT0704", _G.PROJECT, "项目删除", "Project delete", True),
    Operation("SFT0705", _G.PROJECT, "项目确认单", "Project confirmation sheet", True),
    # 完税凭证
    Operation("SFT1001", _G.TAX_CERTIFICATE, "完税凭证记录", "Tax payment certificates", False),
    # 企业信息
    Operation("SFT0901", _G.ENTERPRISE, "企业信息查询", "Enterprise information", False),
    # 营销金结算 (SFT0502/0503/0504/0510 in their marketing form share the codes above)
    Operation("SFT1101", _G.MARKETING, "营销活动创建", "Marketing campaign create", True),
)

OPERATIONS: dict[str, Operation] = {op.api_code: op for op in _MENU}

#: The six notification types (contract §6): notifyType → (Chinese title, English title).
NOTIFICATION_TYPES: dict[str, tuple[str, str]] = {
    "1001": ("充值通知", "Recharge"),
    "2001": ("提现通知", "Withdrawal"),
    "3001": ("佣金结算通知", "Settlement result"),
    "5001": ("佣金结算退票通知", "Settlement bounced"),
    "8001": ("电子合同签约完成通知", "E-contract signed"),
    "9001": ("开票结果通知", "Invoice result"),
}

#: The marketing-fund settlement family reuses these settlement apiCodes.
MARKETING_SETTLEMENT_CODES: tuple[str, ...] = ("SFT0502", "SFT0503", "SFT0504", "SFT0510")


def operation(api_code: str) -> Operation | None:
    """The menu entry for ``api_code``, or None for a code the platform does not list."""
    return OPERATIONS.get(api_code)


def is_write(api_code: str) -> bool:
    """Whether ``api_code`` changes state on the platform. Unknown codes count as writes (the safe side)."""
    op = OPERATIONS.get(api_code)
    return True if op is None else op.writes
