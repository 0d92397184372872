"""Made-up people the sandbox accepts: valid ID numbers, mobiles, and debit cards from its BIN table.

Used by the demo's generated team, the tests and the benchmarks. Deterministic for a seed. Nothing
here is a real person: the ID numbers are computed (region, birth date, sequence, GB 11643 check
character), the card numbers carry a real bank's BIN with a Luhn check digit and a random account.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum import luhn
from stdnum.cn import ric

from lingong_core.masking import mask_card, mask_id, mask_mobile, mask_name

# Region codes of a few districts (the first six digits of an ID number).
REGIONS = ("110101", "110105", "310104", "440305", "330106", "510107", "420106", "320102", "370202", "610113")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉俊峰建国志远晓东"


def id_number(rng: random.Random, *, age: int | None = None, today: date | None = None) -> str:
    """A valid 18-character resident ID number for someone aged ``age`` (random 20–55 if None)."""
    today = today or date.today()
    years = age if age is not None else rng.randint(20, 55)
    birth = today.replace(year=today.year - years) - timedelta(days=rng.randint(1, 300))
    body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check character


def bad_checksum(id_no: str) -> str:
    """The same ID number with a wrong check character."""
    wrong = "0" if id_no[-1] != "0" else "1"
    return id_no[:-1] + wrong


def card_number(rng: random.Random, bin_prefix: str, length: int) -> str:
    """A card number with ``bin_prefix``, ``length`` digits, and a valid Luhn check digit."""
    body = bin_prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(bin_prefix) - 1))
    return body + luhn.calc_check_digit(body)


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    id_card_no: str
    mobile: str
    bank_card_no: str

    def __repr__(self) -> str:  # made-up data, but masked like real data so no habit leaks it
        return (
            f"Person({mask_name(self.name)}, {mask_id(self.id_card_no)}, {mask_mobile(self.mobile)}, "
            f"{mask_card(self.bank_card_no)})"
        )


# Real debit-card BINs (bank, prefix, length) — the sandbox's BIN table knows each of them.
DEBIT_BINS: tuple[tuple[str, str, int], ...] = (
    ("ICBC", "622202", 19),
    ("CCB", "621700", 19),
    ("ABC", "622848", 19),
    ("BOC", "621661", 19),
    ("CMB", "622588", 16),
)


def team(size: int, seed: int = 0, *, today: date | None = None) -> list[Person]:
    """``size`` distinct people the sandbox will verify, bind and pay."""
    rng = random.Random(seed)
    people: list[Person] = []
    seen: set[str] = set()
    while len(people) < size:
        id_no = id_number(rng, today=today)
        if id_no in seen:
            continue
        seen.add(id_no)
        _, prefix, length = rng.choice(DEBIT_BINS)
        people.append(Person(name(rng), id_no, mobile(rng), card_number(rng, prefix, length)))
    return people
