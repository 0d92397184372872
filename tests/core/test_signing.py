"""The sign rule (contract §2), both algorithms, both key sizes, and interoperability with openssl."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core.errors import ConfigurationError, SignatureError
from lingong_core.signing import (
    PrivateKeyCache,
    SignAlgorithm,
    generate_key_pair,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    public_key_to_pem,
    sign,
    sign_envelope,
    sign_string,
    verify,
    verify_envelope,
)

# The seed page's example request for SFT0404, field for field.
SEED_REQUEST = {
    "apiCode": "SFT0404",
    "bizModel": '{"amount":200021,"outOrderNo":"T202403040000001","payChannelCode":"3000003",'
    '"rechargeTime":1709540429621,"serviceAmount":0,"taxBaseCode":"2000064001"}',
    "sign": "mfNVD3iogT/wmKpcMA708dagueYpDYzGvPx2bywD0JxBf6yyB8OdnE3K/eWqNsobAgY7sy7fVQHlCorbEHGh6R8ykUvaiPfDnlAIShvSSl"
    "nwmWxn0cnvHrA5aPp4VQSTZ+MpLYst57BRVoXJ72ewRWvLXNuQ5nf9FRnwJM4+ATo=",
    "requestNo": "c8edae7d-11bb-4707-8c7e-2e9ac1a40005",
    "version": "2.0",
    "merchantNo": "1088202103120003",
    "timestamp": "20240304162030",
}

# Contract §2, copied byte for byte.
SEED_SIGN_STRING = (
    'apiCode=SFT0404&bizModel={"amount":200021,"outOrderNo":"T202403040000001","payChannelCode":"3000003",'
    '"rechargeTime":1709540429621,"serviceAmount":0,"taxBaseCode":"2000064001"}&merchantNo=1088202103120003'
    "&requestNo=c8edae7d-11bb-4707-8c7e-2e9ac1a40005&timestamp=20240304162030&version=2.0"
)


def test_seed_example_produces_the_contract_sign_string() -> None:
    assert sign_string(SEED_REQUEST) == SEED_SIGN_STRING


def test_seed_example_signature_is_128_bytes_so_1024_bit_keys_must_work() -> None:
    assert len(base64.b64decode(SEED_REQUEST["sign"])) == 128


def test_sign_string_drops_sign_null_and_empty_and_sorts_by_byte_order() -> None:
    fields = {"b": "2", "a": "1", "sign": "x", "c": "", "d": None, "B": "upper", "_": "u"}
    # byte order: "B" (0x42) < "_" (0x5f) < "a" (0x61)
    assert sign_string(fields) == "B=upper&_=u&a=1&b=2"


def test_sign_string_keeps_chinese_text_as_is() -> None:
    fields = {"bizModel": '{"name":"张三","remark":"十一月佣金"}', "apiCode": "SFT0101"}
    assert sign_string(fields) == 'apiCode=SFT0101&bizModel={"name":"张三","remark":"十一月佣金"}'


@pytest.mark.parametrize("bits", [1024, 2048])
@pytest.mark.parametrize("algorithm", list(SignAlgorithm))
def test_sign_and_verify_round_trip(bits: int, algorithm: SignAlgorithm) -> None:
    private, public = generate_key_pair(bits)
    signature = sign(SEED_SIGN_STRING, private, algorithm)
    assert len(base64.b64decode(signature)) == bits // 8
    verify(SEED_SIGN_STRING, signature, public, algorithm)


def test_a_signature_made_with_one_algorithm_fails_under_the_other(small_keys) -> None:
    private, public = small_keys
    signature = sign("x=1", private, SignAlgorithm.SHA1_WITH_RSA)
    with pytest.raises(SignatureError):
        verify("x=1", signature, public, SignAlgorithm.SHA256_WITH_RSA)


def test_tampered_biz_model_fails_verification(small_keys) -> None:
    private, public = small_keys
    envelope = dict(SEED_REQUEST)
    envelope["sign"] = sign_envelope(envelope, private)
    verify_envelope(envelope, public)
    tampered = dict(envelope, bizModel=envelope["bizModel"].replace("200021", "200022"))
    with pytest.raises(SignatureError, match="does not verify"):
        verify_envelope(tampered, public)


def test_chinese_biz_model_is_signed_as_utf8_bytes(small_keys) -> None:
    private, public = small_keys
    text = 'apiCode=SFT0101&bizModel={"name":"张三"}'
    signature = sign(text, private)
    verify(text.encode("utf-8"), signature, public)
    # the \u-escaped form is a different message and must not verify
    with pytest.raises(SignatureError):
        verify('apiCode=SFT0101&bizModel={"name":"\\u5f20\\u4e09"}', signature, public)


@pytest.mark.parametrize("bad", ["", "not base64!!", base64.b64encode(b"\0" * 128).decode()])
def test_verify_raises_rather_than_returning_false(small_keys, bad: str) -> None:
    _, public = small_keys
    with pytest.raises(SignatureError):
        verify("x=1", bad, public)


def test_keys_load_from_pkcs1_pkcs8_and_bare_base64(small_keys) -> None:
    private, public = small_keys
    pkcs8 = private_key_to_pem(private)
    pkcs1 = private_key_to_pem(private, pkcs1=True)
    assert "BEGIN PRIVATE KEY" in pkcs8
    assert "BEGIN RSA PRIVATE KEY" in pkcs1
    bare = "".join(pkcs8.strip().splitlines()[1:-1])
    message = "a=1"
    for text in (pkcs8, pkcs1, bare, pkcs8.encode()):
        verify(message, sign(message, load_private_key(text)), public)
    public_pem = public_key_to_pem(public)
    bare_public = "".join(public_pem.strip().splitlines()[1:-1])
    for text in (public_pem, bare_public):
        verify(message, sign(message, private), load_public_key(text))


def test_unreadable_keys_raise_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        load_private_key("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigurationError):
        load_public_key("garbage")


def test_a_key_cache_of_its_own_loads_a_pem_once_and_keeps_at_most_its_maximum(small_keys) -> None:
    first = private_key_to_pem(small_keys[0])
    cache = PrivateKeyCache(maximum=2)
    key = cache.load(first)
    assert cache.load(first) is key  # the same PEM again: the loaded object, not a second parse
    assert load_private_key(first, cache) is key
    assert load_private_key(first) is not key  # the process's cache is another one
    others = [private_key_to_pem(generate_key_pair(1024)[0]) for _ in range(2)]
    for pem in others:
        cache.load(pem)
    assert len(cache) == 2
    assert cache.load(first) is not key  # the oldest went out first
    assert "PRIVATE KEY" not in repr(cache)
    with pytest.raises(ConfigurationError, match="maximum"):
        PrivateKeyCache(maximum=0)


# --- openssl interoperability ---------------------------------------------------------------------

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")


def _write_keys(tmp_path: Path, private: rsa.RSAPrivateKey) -> tuple[Path, Path]:
    key_file, pub_file = tmp_path / "key.pem", tmp_path / "pub.pem"
    key_file.write_text(private_key_to_pem(private, pkcs1=True))
    pub_file.write_text(public_key_to_pem(private.public_key()))
    return key_file, pub_file


@needs_openssl
@pytest.mark.parametrize(
    ("algorithm", "digest"), [(SignAlgorithm.SHA256_WITH_RSA, "-sha256"), (SignAlgorithm.SHA1_WITH_RSA, "-sha1")]
)
def test_core_signature_verifies_with_openssl(tmp_path: Path, small_keys, algorithm, digest) -> None:
    private, _ = small_keys
    _, pub_file = _write_keys(tmp_path, private)
    message = SEED_SIGN_STRING.replace("200021", "200021.50") + "&remark=十一月"
    (tmp_path / "msg").write_bytes(message.encode("utf-8"))
    (tmp_path / "sig").write_bytes(base64.b64decode(sign(message, private, algorithm)))
    result = subprocess.run(
        [OPENSSL, "dgst", digest, "-verify", str(pub_file), "-signature", str(tmp_path / "sig"), str(tmp_path / "msg")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Verified OK" in result.stdout


@needs_openssl
def test_openssl_signature_verifies_with_the_core(tmp_path: Path, merchant_keys) -> None:
    private, public = merchant_keys
    key_file, _ = _write_keys(tmp_path, private)
    (tmp_path / "msg").write_bytes(SEED_SIGN_STRING.encode("utf-8"))
    subprocess.run(
        [OPENSSL, "dgst", "-sha256", "-sign", str(key_file), "-out", str(tmp_path / "sig"), str(tmp_path / "msg")],
        check=True,
        capture_output=True,
    )
    signature = base64.b64encode((tmp_path / "sig").read_bytes()).decode()
    verify(SEED_SIGN_STRING, signature, public)
    with pytest.raises(SignatureError):
        verify(SEED_SIGN_STRING + "&x=1", signature, public)
