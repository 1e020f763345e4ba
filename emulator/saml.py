"""SAML 2.0 on pysaml2 (signatures by Debian's xmlsec1): the local IdP's and the user pool's halves.

The local SAML IdP signs its responses and assertions with a self-signed certificate made at
start; the user pool (the service provider, entity ID `urn:amazon:cognito:sp:<pool id>`) trusts
exactly the certificate in the IdP metadata that CreateIdentityProvider was given, as Cognito does.

pysaml2 is imported by the functions that use it, not here: importing it loads its XML schemas,
about a second, which an emulator start that serves no SAML sign-in should not pay. The metadata
the pool is given at start is therefore written here, exactly as pysaml2 writes it.
"""

from __future__ import annotations

import base64
import datetime
import functools
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from saml2.client import Saml2Client
    from saml2.server import Server

# pysaml2 logs whole SAML messages and xmlsec1's output; assertions must never reach a log.
logging.getLogger("saml2").setLevel(logging.CRITICAL)

# pysaml2's names for the bindings (saml2.BINDING_HTTP_POST, saml2.BINDING_HTTP_REDIRECT).
BINDING_HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
AUTHN_PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
ATTRIBUTE_NAME_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"


@dataclass(frozen=True)
class Certificate:
    """A signing key and its self-signed certificate, as files (xmlsec1 reads files)."""

    key_file: str
    cert_file: str

    @property
    def pem(self) -> str:
        return Path(self.cert_file).read_text()

    @property
    def base64(self) -> str:
        """The certificate as metadata carries it: the PEM body on one line."""
        return "".join(line for line in self.pem.splitlines() if not line.startswith("-----"))


@functools.cache
def certificate(common_name: str) -> Certificate:
    """A 2048-bit key and a one-year certificate for `common_name`, made once per process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    directory = Path(tempfile.mkdtemp(prefix="emulator-saml-"))
    key_file, cert_file = directory / "key.pem", directory / "cert.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Certificate(key_file=str(key_file), cert_file=str(cert_file))


def sp_entity_id(pool_id: str) -> str:
    """The user pool's SAML entity ID (cognito-facts 7)."""
    return f"urn:amazon:cognito:sp:{pool_id}"


def sp_metadata(*, entity_id: str, acs_url: str) -> str:
    """Service-provider metadata of the user pool: its entity ID and its ACS (POST binding)."""
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"'
        f' entityID="{entity_id}"><md:SPSSODescriptor WantAssertionsSigned="true"'
        ' protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'<md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{acs_url}"'
        ' index="0"/></md:SPSSODescriptor></md:EntityDescriptor>'
    )


def idp_server(
    *, entity_id: str, sso_url: str, cert: Certificate, sp_metadata_xml: list[str]
) -> Server:
    """A pysaml2 IdP that signs with `cert` and answers the service providers given."""
    from saml2.config import IdPConfig
    from saml2.server import Server

    config = IdPConfig()
    config.load(
        {
            "entityid": entity_id,
            "key_file": cert.key_file,
            "cert_file": cert.cert_file,
            "metadata": {"inline": sp_metadata_xml},
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_EMAIL],
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 5},
                            "attribute_restrictions": None,
                            "name_form": ATTRIBUTE_NAME_FORMAT,
                        }
                    },
                    "sign_response": True,
                    "sign_assertion": True,
                }
            },
            "allow_unknown_attributes": True,
        }
    )
    return Server(config=config)


def idp_metadata(*, entity_id: str, sso_url: str, cert: Certificate) -> str:
    """The IdP's metadata XML, what an admin uploads as `MetadataFile`: pysaml2's, byte for byte."""
    return (
        '<ns0:EntityDescriptor xmlns:ns0="urn:oasis:names:tc:SAML:2.0:metadata"'
        f' xmlns:ns1="http://www.w3.org/2000/09/xmldsig#" entityID="{_attribute(entity_id)}">'
        '<ns0:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"'
        ' WantAuthnRequestsSigned="false"><ns0:KeyDescriptor use="signing"><ns1:KeyInfo>'
        f"<ns1:X509Data><ns1:X509Certificate>{cert.base64}</ns1:X509Certificate></ns1:X509Data>"
        f"</ns1:KeyInfo></ns0:KeyDescriptor><ns0:NameIDFormat>{NAMEID_EMAIL}</ns0:NameIDFormat>"
        f'<ns0:SingleSignOnService Binding="{BINDING_HTTP_REDIRECT}"'
        f' Location="{_attribute(sso_url)}" /></ns0:IDPSSODescriptor></ns0:EntityDescriptor>'
    )


def _attribute(value: str) -> str:
    """An attribute value escaped as ElementTree (and so pysaml2) escapes it."""
    return escape(value, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#09;"})


def sp_client(*, entity_id: str, acs_url: str, idp_metadata_xml: str) -> Saml2Client:
    """The user pool's side for one SAML provider: trusts that provider's metadata only."""
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    config = SPConfig()
    config.load(
        {
            "entityid": entity_id,
            "metadata": {"inline": [idp_metadata_xml]},
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)]},
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "allow_unsolicited": False,
                    "authn_requests_signed": False,
                    "name_id_format": [NAMEID_EMAIL],
                }
            },
            "allow_unknown_attributes": True,
            # A little clock skew between IdP and pool is normal; minutes are not.
            "accepted_time_diff": 60,
        }
    )
    return Saml2Client(config=config)


def signed_response(
    server: Server,
    *,
    in_response_to: str,
    destination: str,
    audience: str,
    name_id: str,
    attributes: dict[str, str],
) -> str:
    """A Response whose Response and Assertion are both signed (RSA-SHA256), base64 for a form."""
    from saml2.saml import NameID
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    response = server.create_authn_response(
        {name: [value] for name, value in attributes.items()},
        in_response_to=in_response_to,
        destination=destination,
        sp_entity_id=audience,
        name_id=NameID(format=NAMEID_EMAIL, text=name_id),
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED},
        sign_response=True,
        sign_assertion=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    return base64.b64encode(str(response).encode()).decode()


def error_response(server: Server, *, in_response_to: str, destination: str, message: str) -> str:
    """A signed Response with status AuthnFailed: the user cancelled or was refused."""
    from saml2.samlp import STATUS_AUTHN_FAILED
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    response = server.create_error_response(
        in_response_to,
        destination,
        (STATUS_AUTHN_FAILED, message),
        sign=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    return base64.b64encode(str(response).encode()).decode()


def authn_request(client: Saml2Client, *, relay_state: str) -> tuple[str, str]:
    """An unsigned AuthnRequest (Cognito does not sign them): its ID and the redirect URL."""
    request_id, info = client.prepare_for_authenticate(
        relay_state=relay_state, binding=BINDING_HTTP_REDIRECT
    )
    location = dict(info["headers"])["Location"]
    return request_id, location


def attributes_of(identity: dict[str, Any]) -> dict[str, str]:
    """An assertion's attributes as single strings (multi-valued ones joined by commas)."""
    return {name: ",".join(str(v) for v in values) for name, values in identity.items() if values}
