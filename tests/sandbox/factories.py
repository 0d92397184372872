"""Test data for the sandbox: valid (and deliberately broken) ID numbers and card numbers, people, a clock.

The ID check character is computed here from GB 11643-1999 directly (weights 7 9 10 5 8 4 2 1 6 3 7 9
10 5 8 4 2, mod 11 → ``1 0 X 9 8 7 6 5 4 3 2``), independently of the library the platform uses, and
cards come from the platform's own BIN table with a Luhn check digit. Nothing here is a real person.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from lingong_core.timeutil import SHANGHAI
from lingong_sandbox.engine import bins

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
REGIONS = ("110101", "110105", "310101", "310104", "120101", "440305", "330106", "510104")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "平",
)
PROVIDER_A = "2000064001"
PROVIDER_B = "2000064002"


def id_check_char(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def id_card_no(
    *, age: int = 30, seq: int = 1, region: str = REGIONS[0], today: date | None = None, birth: date | None = None
) -> str:
    """A valid 18-character ID number for someone ``age`` years old ``today`` (or born on ``birth``)."""
    today = today or datetime.now(SHANGHAI).date()
    if birth is None:
        birth = date(today.year - age, 1 + seq % 12, 1 + seq % 28)
        if (birth.month, birth.day) > (today.month, today.day):  # not had this year's birthday yet
            birth = date(birth.year - 1, birth.month, birth.day)
    first17 = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


def with_bad_check(id_no: str) -> str:
    """The same number with a wrong check character."""
    good = id_no[-1]
    return id_no[:-1] + next(c for c in CHECK if c != good)


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def card_no(bank_code: str = "ICBC", card_type: str = "DEBIT", *, seq: int = 1, luhn_valid: bool = True) -> str:
    """A card number from the platform's BIN table for ``bank_code`` / ``card_type``, Luhn-valid unless asked."""
    row = next(r for r in bins.table() if r.bank_code == bank_code and r.card_type == card_type)
    body = row.bin + f"{seq:0{row.card_length - len(row.bin) - 1}d}"
    digit = luhn_digit(body)
    if not luhn_valid:
        digit = str((int(digit) + 1) % 10)
    return body + digit


def mobile(seq: int = 1) -> str:
    return f"138{seq % 10**8:08d}"


@dataclass(frozen=True)
class Person:
    name: str
    id_card_no: str
    mobile: str
    bank_card_no: str

    def verify_biz(self, **extra: Any) -> dict[str, Any]:
        return {"name": self.name, "idCardNo": self.id_card_no, "mobile": self.mobile, **extra}

    def bind_biz(self) -> dict[str, Any]:
        return {"idCardNo": self.id_card_no, "name": self.name, "bankCardNo": self.bank_card_no}

    def order(self, out_order_no: str, amount: str | Decimal, **extra: Any) -> dict[str, Any]:
        return {
            "outOrderNo": out_order_no,
            "name": self.name,
            "idCardNo": self.id_card_no,
            "bankCardNo": self.bank_card_no,
            "amount": Decimal(amount),
            **extra,
        }


BANKS = ("ICBC", "CCB", "ABC", "BOC", "CMB", "COMM", "PSBC", "CIB", "SPABANK", "CITIC")


def person(i: int, *, age: int = 30, today: date | None = None) -> Person:
    """The i-th test person: a distinct name, ID number, mobile and debit card."""
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[i % len(GIVEN)]
    return Person(
        name=name,
        id_card_no=id_card_no(age=age, seq=i, region=REGIONS[i % len(REGIONS)], today=today),
        mobile=mobile(i),
        bank_card_no=card_no(BANKS[i % len(BANKS)], seq=1000 + i),
    )


class Clock:
    """A settable clock for ``Platform(clock=...)``: Shanghai time, moved by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 3, 4, 16, 20, 30, tzinfo=SHANGHAI)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Outbox:
    """A ``Notify`` that keeps what it is given: ``(merchant_no, notify_type, biz)``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, conn: sqlite3.Connection, merchant_no: str, notify_type: str, biz: dict[str, Any]) -> None:
        self.sent.append((merchant_no, notify_type, biz))

    def of(self, notify_type: str) -> list[dict[str, Any]]:
        return [biz for _, t, biz in self.sent if t == notify_type]


class Rig:
    """The engine on an in-memory database, called the way the gateway calls it (one transaction a call)."""

    def __init__(self, settings: Any = None, *, merchant_no: str | None = None) -> None:
        from lingong_sandbox.db import Database
        from lingong_sandbox.engine import Platform
        from lingong_sandbox.settings import SandboxSettings

        self.settings = settings or SandboxSettings()
        self.clock = Clock()
        self.outbox = Outbox()
        self.platform = Platform(self.settings, self.outbox, clock=self.clock)
        self.db = Database.open(":memory:")
        self.merchant_no = merchant_no or self.settings.merchant.merchant_no

    def person(self, i: int, *, age: int = 30) -> Person:
        """The i-th test person, ``age`` years old on the rig's clock."""
        return person(i, age=age, today=self.clock.now.date())

    def call(self, api_code: str, biz: dict[str, Any]) -> dict[str, Any]:
        """One call; its answer must fit the apiCode's response model with extra fields forbidden."""
        from tests.sandbox.contract import spec_for, strict_issues

        with self.db.transaction() as conn:
            answer = self.platform.handle(conn, self.merchant_no, api_code, biz)
        issues = strict_issues(spec_for(api_code, biz).response, answer)
        assert not issues, f"{api_code} answered what its response model does not describe: {issues}"
        return answer

    def refused(self, api_code: str, biz: dict[str, Any]) -> Any:
        """The :class:`PlatformError` the call raises (fails the test if it succeeds)."""
        from lingong_sandbox.interface import PlatformError

        try:
            answer = self.call(api_code, biz)
        except PlatformError as exc:
            return exc
        raise AssertionError(f"{api_code} was accepted: {answer}")

    def run(self, **ahead: float) -> int:
        """Move the clock (default a day) and perform every background transition due by then."""
        self.clock.advance(**(ahead or {"days": 1}))
        with self.db.transaction() as conn:
            return self.platform.run_due(conn, self.clock.now)

    def audit(self) -> dict[str, Any]:
        with self.db.read() as conn:
            return self.platform.audit(conn)

    def script(self, **kwargs: Any) -> None:
        with self.db.transaction() as conn:
            self.platform.script_outcome(conn, **kwargs)

    def onboard(self, p: Person, tax_base_code: str = PROVIDER_A, *, sign: bool = True) -> dict[str, Any]:
        """Verify, bind the card, generate the contract and (by default) sign it in the background."""
        verified = self.call("SFT0101", p.verify_biz())
        self.call("SFT0203", p.bind_biz())
        contract = self.call("SFT0104", {"idCardNo": p.id_card_no, "taxBaseCode": tax_base_code})
        if sign:
            self.call("SFT0105", {"contractNo": contract["contractNo"]})
            self.run(minutes=1)
        return {**verified, "contractNo": contract["contractNo"]}

    def fund(self, amount: str | Decimal, tax_base_code: str = PROVIDER_A, *, out_order_no: str | None = None) -> str:
        """Recharge the provider account and let it arrive; returns the recharge orderNo."""
        self._funds = getattr(self, "_funds", 0) + 1
        answer = self.call(
            "SFT0404",
            {
                "outOrderNo": out_order_no or f"R{self._funds:06d}",
                "taxBaseCode": tax_base_code,
                "amount": Decimal(amount),
                "serviceAmount": Decimal(0),
                "payChannelCode": "3000003",
                "rechargeTime": "2024-03-04 16:20:29",
            },
        )
        self.run(minutes=1)
        return str(answer["orderNo"])

    def balance(self, tax_base_code: str = PROVIDER_A) -> Decimal:
        return Decimal(self.call("SFT0303", {"taxBaseCode": tax_base_code})["balance"])

    def count(self, table: str) -> int:
        with self.db.read() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
