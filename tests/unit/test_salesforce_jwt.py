"""JWT bearer login (connected app with a certificate) against the stateful fake's token endpoint.

The fake verifies the RS256 assertion with the connected app's public key, as Salesforce does
(issuer = consumer key, subject = username, audience = the login host, expiry in the future).
"""

from __future__ import annotations

import json
import logging

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.fakes.fixtures import seed_opportunities
from tests.fakes.salesforce_api import FakeSalesforce
from tests.unit.test_fake_salesforce import _RouteTo

from salesops.sources.base import SourceError
from salesops.sources.salesforce import SalesforceSource, client_from_connection

JWT_GRANT = "jwt-bearer"
FIELDS = ["Id", "Name", "Amount", "SystemModstamp"]
USER = "integration.user@example.test"
PUBLIC_URL = "https://synthetic-org.my.salesforce.com"


def _key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="module")
def keys() -> tuple[str, str, str]:
    """(private PEM, matching public PEM, another private PEM): RSA generation is slow-ish."""
    private, public = _key_pair()
    other, _ = _key_pair()
    return private, public, other


def _routed(fake: FakeSalesforce, login_host: str) -> requests.Session:
    session = requests.Session()
    session.mount(f"https://{login_host}", _RouteTo(fake.url))
    session.mount(PUBLIC_URL, _RouteTo(fake.url))
    fake.public_url = PUBLIC_URL
    return session


def _read(src: SalesforceSource, fake: FakeSalesforce) -> list[dict]:
    return [r for p in src.read_changes("Opportunity", FIELDS, "SystemModstamp", None, fake.clock) for r in p]


def test_jwt_bearer_login_reads_the_org_and_logs_no_secret(fake_sf, keys, caplog):
    private, public, _ = keys
    fake_sf.jwt_public_key = public
    ids = seed_opportunities(fake_sf, 3)
    session = _routed(fake_sf, "login.salesforce.com")
    caplog.set_level(logging.DEBUG)
    client = client_from_connection(
        USER, None, {"consumer_key": "ck-fake", "private_key": private}, session=session
    )
    rows = _read(SalesforceSource(client), fake_sf)
    assert [r["Id"] for r in rows] == ids
    assert fake_sf.logins == [{"grant_type": JWT_GRANT, "host": "login.salesforce.com"}]
    assert client.base_url == PUBLIC_URL
    # an expired session signs a new assertion once and carries on
    fake_sf.revoke_tokens()
    assert len(_read(SalesforceSource(client), fake_sf)) == 3
    assert len(fake_sf.logins) == 2
    logged = caplog.text
    secret_bits = [private.splitlines()[1], client._token, *fake_sf.tokens]
    assert not [s for s in secret_bits if s and s in logged]


def test_jwt_bearer_sandbox_with_key_file_from_an_airflow_connection(fake_sf, keys, tmp_path, monkeypatch):
    """The key comes from the connection (here its private_key_file_path extra), through the hook."""
    private, public, _ = keys
    fake_sf.jwt_public_key = public
    seed_opportunities(fake_sf, 2)
    key_file = tmp_path / "server.key"
    key_file.write_text(private)
    conn = {
        "conn_type": "salesforce",
        "login": USER,
        "extra": {"consumer_key": "ck-fake", "private_key_file_path": str(key_file), "domain": "test"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SF_JWT_TEST", json.dumps(conn))
    from salesops.sources import salesforce

    hook = salesforce.__getattr__("SalesforceCrmHook")(
        "sf_jwt_test", session=_routed(fake_sf, "test.salesforce.com")
    )
    assert len(_read(SalesforceSource(hook.get_conn()), fake_sf)) == 2
    assert fake_sf.logins == [{"grant_type": JWT_GRANT, "host": "test.salesforce.com"}]


def test_jwt_bearer_wrong_key_fails_with_salesforces_reason_and_no_assertion(fake_sf, keys):
    private, public, other = keys
    fake_sf.jwt_public_key = public
    seed_opportunities(fake_sf, 1)
    session = _routed(fake_sf, "login.salesforce.com")
    client = client_from_connection(
        USER, None, {"consumer_key": "ck-fake", "private_key": other}, session=session
    )
    with pytest.raises(
        SourceError, match=r"JWT bearer login of integration.user@example.test .* invalid_grant"
    ) as exc:
        client.auth_headers()
    assert "eyJ" not in str(exc.value)  # no JWT (base64 JSON header) in the message
    assert fake_sf.logins == []
    # a user the app does not know is refused too
    bad_user = client_from_connection(
        "someone.else@example.test",
        None,
        {"consumer_key": "ck-fake", "private_key": private},
        session=session,
    )
    with pytest.raises(SourceError, match="hasn't approved this consumer"):
        bad_user.auth_headers()


def test_jwt_bearer_unusable_key_is_a_clear_error(fake_sf):
    client = client_from_connection(
        USER, None, {"consumer_key": "ck-fake", "private_key": "not a PEM key"}, session=requests.Session()
    )
    with pytest.raises(SourceError, match=r"cannot use the private key \(private_key\)"):
        client.auth_headers()
