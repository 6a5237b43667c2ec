"""The SecurityCredential that Daraja's initiator APIs (Transaction Status) require.

It is the initiator's password, RSA-encrypted with Safaricom's public certificate using PKCS#1
v1.5 padding (not OAEP: M-Pesa cannot decrypt OAEP), then base64-encoded. Sandbox and
production certificates differ. They are not in this repository: the SACCO downloads its
environment's certificate from the Daraja portal and passes the file (or its bytes) here.

Encryption with PKCS#1 v1.5 is randomised, so each call returns a different credential; any of
them decrypts to the same password. Neither the password nor the credential is ever logged.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from daraja.errors import DarajaError

_HELP = (
    "Download the M-Pesa public certificate for this environment from the Daraja portal "
    "(sandbox and production certificates differ)."
)


def security_credential(*, password: str, certificate: bytes | str | os.PathLike[str]) -> str:
    """Base64 of ``password`` encrypted with the certificate's RSA public key (PKCS#1 v1.5).

    ``certificate`` is the certificate's content as ``bytes`` (PEM or DER, an X.509 certificate or
    a bare public key), or the path of the file. A ``str`` that starts with ``-----BEGIN`` is
    taken as PEM text, any other ``str`` as a path. Raises ``DarajaError`` naming the problem for
    a blank password, an unreadable file, something that is not an RSA certificate, or a password
    too long for the key.
    """
    if not isinstance(password, str) or not password:
        raise DarajaError("The initiator password is blank: set the M-Pesa initiator's password.")
    key = load_public_key(certificate)
    try:
        encrypted = key.encrypt(password.encode(), padding.PKCS1v15())
    except ValueError:
        raise DarajaError(
            f"The initiator password is too long for the {key.key_size}-bit M-Pesa certificate."
        ) from None
    return base64.b64encode(encrypted).decode("ascii")


def load_public_key(certificate: bytes | str | os.PathLike[str]) -> rsa.RSAPublicKey:
    """The RSA public key in an M-Pesa certificate (bytes, PEM text or a path); else DarajaError."""
    data, source = _read(certificate)
    key = _parse(data)
    if key is None:
        raise DarajaError(
            f"{source} is not a PEM or DER certificate or public key that can be read. {_HELP}"
        )
    if not isinstance(key, rsa.RSAPublicKey):
        raise DarajaError(f"{source} holds a {type(key).__name__}, not an RSA key. {_HELP}")
    return key


def _read(certificate: bytes | str | os.PathLike[str]) -> tuple[bytes, str]:
    if isinstance(certificate, bytes | bytearray | memoryview):
        return bytes(certificate), "The M-Pesa certificate given"
    if isinstance(certificate, str) and certificate.lstrip().startswith("-----BEGIN"):
        return certificate.encode(), "The M-Pesa certificate given"
    if not isinstance(certificate, str | os.PathLike):
        kind = type(certificate).__name__
        raise DarajaError(f"Pass the M-Pesa certificate as bytes or a file path, not {kind}.")
    path = Path(certificate)
    try:
        return path.read_bytes(), f"The M-Pesa certificate file {str(path)!r}"
    except OSError as exc:
        raise DarajaError(
            f"Cannot read the M-Pesa certificate file {str(path)!r}: {exc.strerror or exc}. {_HELP}"
        ) from exc


def _parse(data: bytes) -> object | None:
    loaders = (
        lambda d: x509.load_pem_x509_certificate(d).public_key(),
        lambda d: x509.load_der_x509_certificate(d).public_key(),
        serialization.load_pem_public_key,
        serialization.load_der_public_key,
    )
    for load in loaders:
        try:
            return load(data)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
    return None
