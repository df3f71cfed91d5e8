"""One proxy / CA-bundle policy for both clients: the sync client (requests, poke mode) and the async client
(httpx, the deferred sensor's trigger) reach the API through the same proxy and trust the same CA bundle.

Real peers on loopback: a forwarding HTTP proxy in front of the emulator that records what it forwards, and
an HTTPS server whose certificate is signed by a CA made for the test.
"""

from __future__ import annotations

import asyncio
import datetime
import http.client
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from airflow_provider_twads.api import AdsApiConnectionError
from airflow_provider_twads.api.aclient import AsyncAdsApiClient
from airflow_provider_twads.api.client import AdsApiClient
from airflow_provider_twads.api.config import Credentials, RetryPolicy
from airflow_provider_twads.api.network import CA_BUNDLE_VARIABLES, NetworkPolicy, network_policy
from twads_emulator import DEFAULT_CREDENTIALS, SEED

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy and no CA bundle from the machine running the tests."""
    for name in (*CA_BUNDLE_VARIABLES, *PROXY_VARIABLES, *(v.upper() for v in PROXY_VARIABLES)):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _clients(host: str) -> tuple[AdsApiClient, AsyncAdsApiClient]:
    kwargs: dict[str, Any] = {
        "host": host,
        "account_id": SEED["account_id"],
        "timeout": 5,
        "retry": RetryPolicy(max_attempts=1),
    }
    creds = Credentials(**DEFAULT_CREDENTIALS)
    return AdsApiClient(creds, **kwargs), AsyncAdsApiClient(creds, **kwargs)


def _get_account_both_ways(host: str) -> list[Any]:
    """``GET accounts/:id`` with the sync and the async client: the entity, or the error raised."""
    sync, aio = _clients(host)
    results: list[Any] = []
    try:
        results.append(sync.get_account())
    except AdsApiConnectionError as err:
        results.append(err)
    finally:
        sync.close()

    async def run() -> Any:
        try:
            return await aio.acall("accounts.get")
        except AdsApiConnectionError as err:
            return err
        finally:
            await aio.aclose()

    results.append(asyncio.run(run()))
    return results


# ----------------------------------------------------------------------------------------------------------
# The policy
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("https://ads-api.x.com", {}, NetworkPolicy(True, None)),
        ("https://ads-api.x.com", {"HTTPS_PROXY": "proxy:3128"}, NetworkPolicy(True, "http://proxy:3128")),
        (
            "https://ads-api.x.com",
            {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"},
            NetworkPolicy(True, "http://lower:2"),
        ),
        ("https://ads-api.x.com", {"http_proxy": "http://p:1"}, NetworkPolicy(True, None)),
        ("http://emu:8000", {"ALL_PROXY": "http://p:1"}, NetworkPolicy(True, "http://p:1")),
        (
            "https://ads-api.x.com",
            {"https_proxy": "http://p:1", "NO_PROXY": ".x.com"},
            NetworkPolicy(True, None),
        ),
        ("https://ads-api.x.com", {"https_proxy": "http://p:1", "no_proxy": "*"}, NetworkPolicy(True, None)),
        (
            "http://10.1.2.3:80",
            {"http_proxy": "http://p:1", "no_proxy": "10.0.0.0/8"},
            NetworkPolicy(True, None),
        ),
        (
            "http://emu:8000",
            {"http_proxy": "http://p:1", "no_proxy": "emu:9000"},
            NetworkPolicy(True, "http://p:1"),
        ),
        ("http://emu:8000", {"http_proxy": "http://p:1", "no_proxy": "emu:8000"}, NetworkPolicy(True, None)),
        (
            "https://ads-api.x.com",
            {"SSL_CERT_FILE": "/b", "CURL_CA_BUNDLE": "/a", "SSL_CERT_DIR": "/c"},
            NetworkPolicy("/a", None),
        ),
        (
            "https://ads-api.x.com",
            {"SSL_CERT_FILE": "/b", "REQUESTS_CA_BUNDLE": "/r"},
            NetworkPolicy("/r", None),
        ),
        ("https://ads-api.x.com", {"SSL_CERT_DIR": "/c"}, NetworkPolicy("/c", None)),
    ],
)
def test_policy_reads_the_environment(url: str, env: dict[str, str], expected: NetworkPolicy) -> None:
    assert network_policy(url, env) == expected


# ----------------------------------------------------------------------------------------------------------
# A forwarding proxy
# ----------------------------------------------------------------------------------------------------------
class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _RecordingProxy

    def _forward(self) -> None:
        target = urlsplit(self.path)  # a forward proxy receives the absolute URL
        self.server.forwarded.append((self.command, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _RecordingProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.forwarded: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def proxy() -> Iterator[_RecordingProxy]:
    server = _RecordingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_both_clients_go_through_the_environment_proxy(
    emu: Any, proxy: _RecordingProxy, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("HTTP_PROXY", proxy.url)
    sync_account, async_account = _get_account_both_ways(emu.base_url)
    assert sync_account["id"] == async_account["id"] == SEED["account_id"]
    # Both requests went through the proxy, signed for the API URL (the emulator checked the signatures).
    expected = ("GET", f"{emu.base_url}/12/accounts/{SEED['account_id']}")
    assert proxy.forwarded == [expected, expected]


def test_no_proxy_exempts_the_host_for_both_clients(
    emu: Any, proxy: _RecordingProxy, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("HTTP_PROXY", proxy.url)
    clean_env.setenv("NO_PROXY", "127.0.0.1")
    sync_account, async_account = _get_account_both_ways(emu.base_url)
    assert sync_account["id"] == async_account["id"] == SEED["account_id"]
    assert proxy.forwarded == []


# ----------------------------------------------------------------------------------------------------------
# An HTTPS peer with a private CA
# ----------------------------------------------------------------------------------------------------------
def _private_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A CA certificate, and a key and certificate for 127.0.0.1 signed by it (PEM files)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "twads test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "leaf.pem", directory / "leaf.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_path, cert_path, key_path


class _AccountHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        account = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        body = json.dumps({"data": {"id": account, "name": "TLS peer"}, "request": {"params": {}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def tls_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on loopback answering ``GET accounts/:id``, and its CA bundle."""
    ca_path, cert_path, key_path = _private_ca(tmp_path_factory.mktemp("ca"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AccountHandler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca_path
    finally:
        server.shutdown()
        server.server_close()


def test_an_unknown_ca_is_refused_by_both_clients(
    tls_peer: tuple[str, Path], clean_env: pytest.MonkeyPatch
) -> None:
    url, _ = tls_peer
    for result in _get_account_both_ways(url):
        assert isinstance(result, AdsApiConnectionError) and "CERTIFICATE_VERIFY_FAILED" in str(result)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_both_clients_trust_the_ca_bundle_of_the_environment(
    tls_peer: tuple[str, Path], clean_env: pytest.MonkeyPatch, variable: str
) -> None:
    url, ca_path = tls_peer
    clean_env.setenv(variable, str(ca_path))
    sync_account, async_account = _get_account_both_ways(url)
    assert sync_account == async_account == {"id": SEED["account_id"], "name": "TLS peer"}
