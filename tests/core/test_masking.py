"""Personal data appears in logs only masked; keys and signatures never."""

from __future__ import annotations

import logging

import httpx
import pytest

from lingong_core.client import LingongClient
from lingong_core.masking import MaskingFilter, mask_card, mask_id, mask_mapping, mask_mobile, mask_name, scrub
from lingong_core.signing import private_key_to_pem

ID = "110101199003071234"
CARD = "6222021234567890123"
MOBILE = "13812345678"


def test_the_masks_of_domain_md() -> None:
    assert mask_id(ID) == "110101********1234"
    assert mask_mobile(MOBILE) == "138****5678"
    assert mask_card(CARD) == "6222 **** **** 0123"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李四") == "李*"
    assert mask_name("") == ""
    assert mask_card("123") == "***"


def test_mask_mapping_masks_personal_fields_and_removes_secrets() -> None:
    masked = mask_mapping(
        {
            "name": "张三",
            "idCardNo": ID,
            "mobile": MOBILE,
            "bankCardNo": CARD,
            "amount": 1,
            "sign": "abc",
            "orders": [{"idCardNo": ID}],
            "remark": f"pay {ID}",
        }
    )
    assert masked == {
        "name": "张*",
        "idCardNo": "110101********1234",
        "mobile": "138****5678",
        "bankCardNo": "6222 **** **** 0123",
        "amount": 1,
        "sign": "<redacted>",
        "orders": [{"idCardNo": "110101********1234"}],
        "remark": "pay 110101********1234",
    }


def test_scrub_masks_free_text_but_leaves_order_numbers_and_timestamps() -> None:
    text = f"id={ID} card={CARD} tel={MOBILE} order=2026112600000123 ts=20261126103015"
    assert scrub(text) == (
        "id=110101********1234 card=6222 **** **** 0123 tel=138****5678 order=2026112600000123 ts=20261126103015"
    )
    # text without a digit holds nothing to mask and is left as it is, a key's armour still redacted
    assert scrub("余额不足, 请充值") == "余额不足, 请充值"
    assert scrub("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----") == "<private key redacted>"


def test_client_debug_log_never_holds_personal_data_keys_or_signatures(small_keys, caplog) -> None:
    private, _ = small_keys

    def platform(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": 200, "msg": "ok", "freelancerNo": "F1", "idCardNo": ID})

    client = LingongClient("http://p.test", "M1", private, transport=httpx.MockTransport(platform))
    with caplog.at_level(logging.DEBUG, logger="lingong_core.client"):
        client.call("SFT0101", {"name": "张三", "idCardNo": ID, "mobile": MOBILE})
    text = caplog.text
    assert "SFT0101" in text
    for secret in (ID, MOBILE, "张三", private_key_to_pem(private).splitlines()[1]):
        assert secret not in text
    assert "sign" not in text


@pytest.mark.parametrize("message", [f"card {CARD}", f"id {ID}", f"mobile {MOBILE}"])
def test_masking_filter_scrubs_any_record(message: str) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (message,), None)
    assert MaskingFilter().filter(record)
    assert record.getMessage() == scrub(message)
    assert record.getMessage() != message
