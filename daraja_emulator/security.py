"""SecurityCredential: the initiator's password, RSA-encrypted with PKCS#1 v1.5 padding under
the public key of a certificate, then base64-encoded.

Real Daraja decrypts it with Safaricom's private key. The emulator holds a key pair of its own
and serves the certificate (``GET /emulator/certificate.pem``), so an app under test is set up
exactly as a SACCO is: with a certificate file it did not make.

``cryptography`` is imported lazily, only when a key is needed: the emulator's own
dependencies stay the standard library and httpx.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

KEY_FILE = "daraja-emulator-key.pem"
CERT_FILE = "daraja-emulator-cert.pem"
KEY_BITS = 2048  # the size of Safaricom's own certificates
_MISSING = (
    "checking SecurityCredential needs the 'cryptography' package (pip install cryptography), "
    'or set "strict_security_credential": false on the shortcode'
)


class CredentialKeyUnavailable(RuntimeError):
    """``cryptography`` is not installed, or the key directory cannot be used."""


@dataclass(frozen=True)
class KeyPair:
    private_key: Any  # cryptography's RSAPrivateKey
    certificate_pem: bytes

    def decrypts_to(self, credential: str, password: str) -> bool:
        """Whether ``credential`` is ``password`` encrypted for this key. Anything that is not
        (bad base64, wrong length, wrong key, bad padding) is simply False."""
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            raw = base64.b64decode(credential, validate=True)
            plain = self.private_key.decrypt(raw, padding.PKCS1v15())
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(plain, password.encode("utf-8"))


_lock = threading.Lock()
_pairs: dict[str | None, KeyPair] = {}


def key_pair(key_dir: str | None = None) -> KeyPair:
    """The emulator's key pair: loaded from (or created in) ``key_dir``, or, without one, made
    once per process and shared by every emulator in it, like one Safaricom environment."""
    with _lock:
        pair = _pairs.get(key_dir)
        if pair is None:
            pair = _load_or_create(Path(key_dir)) if key_dir else _generate()
            _pairs[key_dir] = pair
        return pair


def warm_up(key_dir: str | None = None) -> None:
    """Make the key in the background at start, so the first status query does not wait."""
    with contextlib.suppress(CredentialKeyUnavailable):  # reported when a query needs the key
        key_pair(key_dir)


def encrypt(certificate_pem: bytes, password: str) -> str:
    """What a client does with the certificate: the SecurityCredential for ``password``."""
    x509, padding, _ = _cryptography()
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    encrypted = public_key.encrypt(password.encode("utf-8"), padding.PKCS1v15())
    return base64.b64encode(encrypted).decode("ascii")


def _cryptography() -> tuple[Any, Any, Any]:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError as exc:
        raise CredentialKeyUnavailable(_MISSING) from exc
    return x509, padding, rsa


def _generate() -> KeyPair:
    x509, _, rsa = _cryptography()
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "daraja-emulator (not Safaricom)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "daraja-emulator SecurityCredential"),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return KeyPair(key, certificate.public_bytes(serialization.Encoding.PEM))


def _load_or_create(directory: Path) -> KeyPair:
    x509, _, _ = _cryptography()
    from cryptography.hazmat.primitives import serialization

    key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
    try:
        if key_path.exists() and cert_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            certificate_pem = cert_path.read_bytes()
            x509.load_pem_x509_certificate(certificate_pem)  # fail now, not at the first query
            return KeyPair(key, certificate_pem)
        pair = _generate()
        directory.mkdir(parents=True, exist_ok=True)
        key_pem = pair.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key_pem)
        cert_path.write_bytes(pair.certificate_pem)
        return pair
    except (OSError, ValueError) as exc:
        raise CredentialKeyUnavailable(f"key_dir {directory}: {exc}") from exc
