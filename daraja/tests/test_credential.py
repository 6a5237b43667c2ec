"""SecurityCredential: proven by decrypting with a key pair made here (Safaricom's certificates
are not in the repository; the SACCO passes the file it downloads from the Daraja portal)."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from daraja.credential import load_public_key, security_credential
from daraja.errors import DarajaError

PASSWORD = "Safaricom999!*!"  # the shape of the sandbox initiator passwords


@pytest.fixture(scope="module")
def private_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def certificate(private_key):
    """A self-signed X.509 certificate, as Safaricom's ProductionCertificate.cer is."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apicrypt.test")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(private_key, hashes.SHA256())
    )


def decrypt(private_key, credential: str) -> str:
    return private_key.decrypt(base64.b64decode(credential), padding.PKCS1v15()).decode()


def test_the_credential_is_the_password_encrypted_with_pkcs1_v15(private_key, certificate):
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    credential = security_credential(password=PASSWORD, certificate=pem)
    assert decrypt(private_key, credential) == PASSWORD


def test_the_credential_is_not_oaep(private_key, certificate):
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    ciphertext = base64.b64decode(security_credential(password=PASSWORD, certificate=pem))
    # The OAEP that most libraries default to (SHA-1), the usual mistake with this credential.
    sha1 = hashes.SHA1()  # noqa: S303 - only to show the credential is not OAEP
    oaep = padding.OAEP(mgf=padding.MGF1(sha1), algorithm=sha1, label=None)
    with pytest.raises(ValueError):
        private_key.decrypt(ciphertext, oaep)


def test_the_credential_is_as_long_as_the_key(certificate):
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    assert len(base64.b64decode(security_credential(password="x", certificate=pem))) == 256


def test_each_credential_differs_but_all_decrypt_to_the_password(private_key, certificate):
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    first = security_credential(password=PASSWORD, certificate=pem)
    second = security_credential(password=PASSWORD, certificate=pem)
    assert first != second  # PKCS#1 v1.5 encryption pads with random bytes
    assert decrypt(private_key, first) == decrypt(private_key, second) == PASSWORD


def test_a_der_certificate_works(private_key, certificate):
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert decrypt(private_key, security_credential(password=PASSWORD, certificate=der)) == PASSWORD


def test_a_certificate_file_path_works_as_str_or_path(private_key, certificate, tmp_path):
    path = tmp_path / "ProductionCertificate.cer"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    for given in (path, str(path)):
        credential = security_credential(password=PASSWORD, certificate=given)
        assert decrypt(private_key, credential) == PASSWORD


def test_pem_text_works(private_key, certificate):
    pem_text = certificate.public_bytes(serialization.Encoding.PEM).decode()
    credential = security_credential(password=PASSWORD, certificate=pem_text)
    assert decrypt(private_key, credential) == PASSWORD


@pytest.mark.parametrize("encoding", [serialization.Encoding.PEM, serialization.Encoding.DER])
def test_a_bare_public_key_works(private_key, encoding):
    key = private_key.public_key().public_bytes(
        encoding, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert decrypt(private_key, security_credential(password=PASSWORD, certificate=key)) == PASSWORD


def test_a_missing_file_is_named(tmp_path):
    missing = tmp_path / "SandboxCertificate.cer"
    with pytest.raises(DarajaError, match=r"Cannot read .*SandboxCertificate\.cer.*Daraja portal"):
        security_credential(password=PASSWORD, certificate=missing)


def test_a_directory_is_not_a_certificate(tmp_path):
    with pytest.raises(DarajaError, match="Cannot read"):
        security_credential(password=PASSWORD, certificate=tmp_path)


@pytest.mark.parametrize(
    "junk",
    [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
)
def test_junk_is_not_a_certificate(junk):
    with pytest.raises(DarajaError, match="not a PEM or DER certificate"):
        security_credential(password=PASSWORD, certificate=junk)


def test_a_junk_file_is_named(tmp_path):
    path = tmp_path / "cert.cer"
    path.write_text("<html>Daraja portal login</html>")
    with pytest.raises(DarajaError, match=r"cert\.cer.*not a PEM or DER"):
        security_credential(password=PASSWORD, certificate=path)


def test_a_non_rsa_key_is_refused():
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(DarajaError, match="not an RSA key"):
        security_credential(password=PASSWORD, certificate=pem)


def test_a_blank_password_is_refused(certificate):
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(DarajaError, match="password is blank"):
        security_credential(password="", certificate=pem)


def test_a_password_too_long_for_the_key_is_refused_without_echoing_it(certificate):
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    secret = "s3cret-" * 40
    with pytest.raises(DarajaError, match="too long") as exc:
        security_credential(password=secret, certificate=pem)
    assert "s3cret" not in str(exc.value)


def test_a_wrong_type_is_refused():
    with pytest.raises(DarajaError, match="bytes or a file path"):
        security_credential(password=PASSWORD, certificate=None)


def test_load_public_key_returns_the_rsa_key(private_key, certificate):
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    assert load_public_key(pem).public_numbers() == private_key.public_key().public_numbers()
