"""A valid example of every model, built from its fields: for docs/api.md, ``lingong api show`` and tests.

:func:`example` returns the wire form (camelCase names, amounts as Decimal, times as strings) with
every field filled, optional ones too, so a round trip exercises the whole model. Personal data is
fictitious and valid: the ID number passes its GB 11643 check character (born 1990-03-07, Beijing
Dongcheng 110101), the card is an ICBC debit BIN with a Luhn check digit, the mobile is a mainland
number (``tests/core/test_example_data.py`` checks all three wherever they appear); in answers and
notifications they appear masked, as the platform sends them.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel

from .base import PageResponse, RequestModel, ResponseModel

#: Fictitious, checksum-valid personal data for requests.
EXAMPLE_PERSON: dict[str, str] = {
    "name": "张三",
    "idCardNo": "110101199003071233",
    "mobile": "13812345678",
    "bankCardNo": "6222021234567890128",
}
#: The same as the platform returns it.
EXAMPLE_PERSON_MASKED: dict[str, str] = {
    "name": "张*",
    "idCardNo": "110101********1233",
    "mobile": "138****5678",
    "bankCardNo": "6222 **** **** 0128",
}

_STRINGS: dict[str, str] = {
    "taxBaseCode": "2000064001",
    "outOrderNo": "T202611260001",
    "orderNo": "2026112600000001",
    "outBatchNo": "B202611-01",
    "batchNo": "2026112600000101",
    "freelancerNo": "FL202600000001",
    "contractNo": "HT202611260001",
    "templateNo": "TPL001",
    "bindNo": "BD202600000001",
    "outApplyNo": "INV202611-01",
    "applyNo": "AP202611260001",
    "outWithdrawNo": "W202611-01",
    "withdrawNo": "WD202611260001",
    "outProjectNo": "P2026-01",
    "projectNo": "PJ202600000001",
    "outCampaignNo": "MKT2026-01",
    "campaignNo": "CP202600000001",
    "refundNo": "RF202611260001",
    "confirmNo": "CF202611260001",
    "certificateNo": "WS202611000001",
    "quotaAcctNo": "QA202600000001",
    "changeNo": "LG202611260001",
    "refNo": "2026112600000101",
    "outRefNo": "B202611-01",
    "receiptNo": "HD202611260001",
    "accountNo": "CG202600000001",
    "merchantNo": "1088202103120003",
    "creditCode": "91110000MA01ABCD2X",
    "enterpriseName": "北京某某科技有限公司",
    "taxBaseName": "某某税源地服务商",
    "projectName": "2026年11月平台推广",
    "campaignName": "双十一推广活动",
    "categoryCode": "304080101",
    "categoryName": "现代服务*推广服务费",
    "invoiceType": "VAT_SPECIAL_E",
    "invoiceTypeName": "增值税专用发票(电子)",
    "bankCode": "ICBC",
    "bankName": "中国工商银行北京分行营业部",
    "bankAcctName": "北京某某科技有限公司",
    "bankAcctNo": "0200001234567890123",
    "payeeAcctType": "BANK",
    "payeeBankAcctName": "某某税源地服务商",
    "payeeBankAcctNo": "755912345610802",
    "payeeBankName": "招商银行深圳分行营业部",
    "payerAcctType": "BANK",
    "payerBankAcctName": "北京某某科技有限公司",
    "payerBankAcctNo": "0200001234567890123",
    "payerBankName": "中国工商银行北京分行营业部",
    "frontImage": "aGVsbG8=",
    "backImage": "aGVsbG8=",
    "fileContent": "JVBERi0xLjQ=",
    "fileName": "contract.pdf",
    "period": "2026-11",
    "msg": "成功",
    "remark": "2026年11月推广佣金",
    "confirmContent": "完成11月推广任务并经验收",
    "description": "线上推广",
    "projectDesc": "线上推广",
    "projectType": "推广服务",
    "bankBranch": "北京分行营业部",
    "title": "自由职业者服务协议",
    "content": "甲方委托乙方提供推广服务……",
    "signAlgorithm": "RSA2",
    "notifyUrl": "https://merchant.example.com/lingong/notify",
    "uploadStatus": "UPLOADED",
    "reason": "信息有误",
    "failMsg": "",
    "bounceReason": "收款账户已销户",
    "rejectReason": "",
    "invoiceNo": "25112000000012345678",
}
_AMOUNTS: dict[str, Decimal] = {
    "amount": Decimal("1234.50"),
    "serviceAmount": Decimal("74.07"),
    "totalAmount": Decimal("1234.50"),
    "payAmount": Decimal("1308.57"),
    "successAmount": Decimal("1234.50"),
    "failAmount": Decimal("0.00"),
    "balance": Decimal("50000.00"),
    "frozenAmount": Decimal("0.00"),
    "availableAmount": Decimal("50000.00"),
    "balanceAfter": Decimal("48691.43"),
    "taxRate": Decimal("0.06"),
    "feeRate": Decimal("0.06"),
    "perOrderLimit": Decimal("50000.00"),
    "monthlyLimit": Decimal("100000.00"),
    "refundAmount": Decimal("1308.57"),
    "bouncedAmount": Decimal("0.00"),
    "invoicedAmount": Decimal("0.00"),
    "taxAmount": Decimal("12.35"),
    "incomeAmount": Decimal("1234.50"),
    "usedQuota": Decimal("0.00"),
    "frozenQuota": Decimal("0.00"),
}
_DATES: dict[str, str] = {"startDate": "2026-11-01", "endDate": "2026-11-30"}
_INTS: dict[str, int] = {"code": 200, "pageNo": 1, "pageSize": 20, "failCode": 4003, "failCount": 0}


def example(model: type[BaseModel]) -> dict[str, Any]:
    """A valid wire-form example of ``model`` with every field filled."""
    masked = not issubclass(model, RequestModel)
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        wire = info.alias or name
        out[wire] = _value(wire, info.annotation, masked)
    if issubclass(model, PageResponse):
        out["total"] = len(out.get("list", []))
    if issubclass(model, ResponseModel):
        out["code"], out["msg"] = 200, "成功"
    return out


def _value(wire: str, annotation: Any, masked: bool) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _value(wire, get_args(annotation)[0], masked)
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in get_args(annotation) if a is not type(None)]
        enum_arm = next((a for a in arms if isinstance(a, type) and issubclass(a, Enum)), None)
        return _value(wire, enum_arm if enum_arm is not None else arms[0], masked)
    if origin is list:
        (item,) = get_args(annotation)
        return [_value(wire[:-1] if wire.endswith("s") else wire, item, masked)]
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return example(annotation) if not issubclass(annotation, ResponseModel) else _record(annotation)
        if issubclass(annotation, Enum):
            return next(iter(annotation)).value
        if issubclass(annotation, bool):
            return True
        if issubclass(annotation, int):
            return _INTS.get(wire, 1)
        if issubclass(annotation, Decimal):
            return _AMOUNTS.get(wire, Decimal("1234.50"))
        if issubclass(annotation, datetime):
            return "2026-11-26 10:30:15"
        if issubclass(annotation, date):
            return _DATES.get(wire, "2026-11-26")
        if issubclass(annotation, str):
            return _string(wire, masked)
    raise TypeError(f"no example for {wire}: {annotation!r}")  # pragma: no cover - a new kind of field


def _record(model: type[BaseModel]) -> dict[str, Any]:
    data = example(model)
    data.pop("code", None)
    data.pop("msg", None)
    return data


_PERSON_FIELDS: dict[str, str] = {
    "name": "name",
    "legalPerson": "name",
    "contactName": "name",
    "idCardNo": "idCardNo",
    "mobile": "mobile",
    "contactMobile": "mobile",
    "bankCardNo": "bankCardNo",
    "payeeName": "name",
    "payeeBankCardNo": "bankCardNo",
}


def _string(wire: str, masked: bool) -> str:
    if wire in _PERSON_FIELDS:
        return (EXAMPLE_PERSON_MASKED if masked else EXAMPLE_PERSON)[_PERSON_FIELDS[wire]]
    if wire in _STRINGS:
        return _STRINGS[wire]
    if wire.endswith("Url"):
        return f"https://files.example.com/{wire}"
    return f"{wire}-0001"
