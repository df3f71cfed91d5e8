"""OAuth 1.0a (HMAC-SHA1) verification, as the Ads API requires on every request.

:class:`OAuthVerifier` serves the emulator. It performs the checks of oauthlib's ``SignatureOnlyEndpoint``
in the same order with the same outcome, and computes the signature with oauthlib's primitives
(``collect_parameters``, ``base_string_uri``, ``sign_hmac_sha1_with_client``), but without the
endpoint's overhead: it parses the Authorization header once (a strict fast path for the usual
``OAuth k="v", ...`` form, oauthlib's parser otherwise), computes the base string URI once per path,
builds no ``oauthlib.common.Request``, and percent-encodes with :func:`escape`, which gives exactly what
oauthlib's ``utils.escape`` gives (RFC 5849 3.6) at a fraction of the cost: ``urllib.parse.quote`` looks
every character up in a dict, and the normalized parameters and base string URI are a few hundred
characters on every request. :func:`normalize_parameters` and :func:`signature_base_string` are
oauthlib's functions of the same names (RFC 5849 3.4.1.3.2 and 3.4.1.1) over that escape; the tests
check that they agree.

:class:`EndpointVerifier` is the same check done by oauthlib's ``SignatureOnlyEndpoint`` itself: the
reference that the tests compare :class:`OAuthVerifier` with, and the "before" of the benchmark.
"""

from __future__ import annotations

import functools
import hmac
import re
import threading
import time
from collections.abc import Mapping
from typing import NamedTuple

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849 import SIGNATURE_HMAC_SHA1, signature, utils

_DUMMY_SECRET = "dummy-secret-that-matches-no-signature"
TIMESTAMP_LIFETIME = 600  # seconds a timestamp may be off (oauthlib's default)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class SignedRequest(NamedTuple):
    """A request as the server received it: what its OAuth signature covers."""

    method: str
    scheme: str  # http or https
    host: str  # the Host header: host and port as the client addressed the server
    path: str  # the raw path, still percent-encoded
    query: str  # the raw query string, without "?"
    form_body: str  # the body if it is application/x-www-form-urlencoded, else ""
    authorization: str | None  # the Authorization header


class _Secrets(NamedTuple):
    """What oauthlib's ``sign_hmac_sha1_with_client`` reads from its client (``sign_hmac_sha1`` is
    deprecated and warns on every call)."""

    client_secret: str
    resource_owner_secret: str


# Consumer key -> consumer secret; access token -> (consumer key, token secret, account IDs it may use).
Consumers = Mapping[str, str]
Tokens = Mapping[str, tuple[str, str, tuple[str, ...]]]

# The usual Authorization header: OAuth k="v", k="v" (no quotes, commas or backslashes inside values).
# For such a header this gives exactly what oauthlib's parse_authorization_header gives; anything else
# goes to oauthlib's parser.
_SIMPLE_HEADER = re.compile(r'[ \t]*[^\s=,"]+="[^"\\,]*"[ \t]*(?:,[ \t]*[^\s=,"]+="[^"\\,]*"[ \t]*)*')
_SIMPLE_PAIR = re.compile(r'([^\s=,"]+)="([^"\\,]*)"')


def parse_authorization(header: str) -> list[tuple[str, str]]:
    """The parameters of an ``OAuth`` Authorization header, as oauthlib's ``parse_authorization_header``
    returns them (values still percent-encoded; a repeated key keeps its last value).

    :param header: the header's value.
    :raises ValueError: if it is not an OAuth header.
    """
    if header[:6].lower() == "oauth " and _SIMPLE_HEADER.fullmatch(header, 6):
        return list(dict(_SIMPLE_PAIR.findall(header, 6)).items())
    pairs: list[tuple[str, str]] = utils.parse_authorization_header(header)
    return pairs


# RFC 5849 3.6: every ASCII character but the unreserved ones (ALPHA, DIGIT, "-", ".", "_", "~") as %XX.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# A full table: str.translate is several times slower when characters miss the table.
_ESCAPES = {c: chr(c) if chr(c) in _UNRESERVED else f"%{c:02X}" for c in range(128)}


def escape(value: str) -> str:
    """RFC 5849 percent-encoding: what oauthlib's ``utils.escape`` returns, faster for ASCII text (non-ASCII
    text, which needs its UTF-8 bytes encoded, goes to oauthlib)."""
    return value.translate(_ESCAPES) if value.isascii() else str(utils.escape(value))


def normalize_parameters(params: list[tuple[str, str]]) -> str:
    """oauthlib's ``signature.normalize_parameters`` (RFC 5849 3.4.1.3.2) with :func:`escape`."""
    return "&".join(f"{k}={v}" for k, v in sorted((escape(k), escape(v)) for k, v in params))


def signature_base_string(method: str, escaped_base_uri: str, normalized: str) -> str:
    """oauthlib's ``signature.signature_base_string`` (RFC 5849 3.4.1.1), given the base string URI
    already escaped (it is cached per path).

    :param normalized: the output of :func:`normalize_parameters`: escaped names and values joined by
        ``=`` and ``&``, so that escaping it again only has ``%``, ``=`` and ``&`` to encode.
    """
    escaped = normalized.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    return f"{escape(method.upper())}&{escaped_base_uri}&{escaped}"


@functools.lru_cache(maxsize=1024)
def _escaped_base_string_uri(scheme: str, host: str, path: str) -> str:
    """oauthlib's base string URI, escaped, once per (scheme, Host header, path)."""
    return escape(signature.base_string_uri(f"{scheme}://{host}{path}"))


def _unescape(value: str) -> str:
    return utils.unescape(value) if "%" in value else value


class _Nonces:
    """Nonces seen within the timestamp window, per (consumer key, timestamp, nonce)."""

    def __init__(self, lifetime: int) -> None:
        self._lifetime = lifetime
        self._seen: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()
        self._last_purge = 0.0

    def first_use(self, client_key: str, timestamp: str, nonce: str) -> bool:
        """Record the nonce; False if it was seen already."""
        now = time.time()
        key = (client_key, timestamp, nonce)
        with self._lock:
            if now - self._last_purge > 60:
                horizon = now - 2 * self._lifetime
                self._seen = {k: t for k, t in self._seen.items() if t > horizon}
                self._last_purge = now
            if key in self._seen:
                return False
            self._seen[key] = now
        return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


class OAuthVerifier:
    """Verify a request's OAuth 1.0a HMAC-SHA1 signature; say which access token signed it.

    The checks, in oauthlib's order: OAuth parameters in exactly one place (header, form body or query)
    and none repeated there; all mandatory ones present; ``HMAC-SHA1``; version ``1.0`` if given; a
    10-digit timestamp within 600 s of now; key and nonce lengths; a nonce not seen before (recorded even
    if the signature then fails, as oauthlib's endpoint does); then the signature over every query, form
    and header parameter, computed with the consumer's and token's secrets (dummy secrets for unknown
    ones, so that the work does not depend on whether they exist).
    """

    def __init__(self, consumers: Consumers, tokens: Tokens, timestamp_lifetime: int = TIMESTAMP_LIFETIME):
        """:param consumers: consumer key -> consumer secret.
        :param tokens: access token -> (consumer key, token secret, account IDs it may use).
        :param timestamp_lifetime: how far (seconds) a timestamp may be from now."""
        self._consumers = consumers
        self._tokens = tokens
        self._lifetime = timestamp_lifetime
        self._nonces = _Nonces(timestamp_lifetime)

    def verify(self, request: SignedRequest) -> tuple[str | None, str]:
        """Check the signature over query, form body and Authorization header parameters.

        :param request: the request as the server received it.
        :return: (access token, "") when valid, else (None, a reason safe to show: no secrets).
        """
        method, scheme, host, path, query, form_body, authorization = request
        try:
            header = parse_authorization(authorization) if authorization else []
            body = signature.collect_parameters(body=form_body, exclude_oauth_signature=False)
            uri_query = signature.collect_parameters(uri_query=query, exclude_oauth_signature=False)
            base_uri = _escaped_base_string_uri(scheme, host, path)
        except ValueError as exc:  # oauthlib refuses malformed headers, queries and URIs with ValueError
            return None, f"Malformed request: {exc}"
        # oauthlib unescapes the oauth_ values of every source (header values arrive still encoded).
        header = [(k, _unescape(val) if k.startswith("oauth_") else val) for k, val in header]
        sources = [s for s in (header, body, uri_query) if any(k.startswith("oauth_") for k, _ in s)]
        if len(sources) != 1:
            if sources:
                return None, "OAuth parameters must come from only one of header, body and query"
            return None, "Missing OAuth parameters"
        oauth_list = [(k, val) for k, val in sources[0] if k.startswith("oauth_")]
        oauth = dict(oauth_list)
        if len(oauth) != len(oauth_list):
            return None, "Duplicate OAuth parameters"
        reason = self._check_mandatory(oauth)
        if reason:
            return None, reason
        client_key, token = oauth["oauth_consumer_key"], oauth.get("oauth_token")
        if not self._nonces.first_use(client_key, oauth["oauth_timestamp"], oauth["oauth_nonce"]):
            return None, "Stale timestamp or reused nonce"
        valid_client = client_key in self._consumers
        client_secret = self._consumers.get(client_key, _DUMMY_SECRET)
        entry = self._tokens.get(token) if token else None
        token_secret = entry[1] if entry is not None and entry[0] == client_key else _DUMMY_SECRET
        params = [p for p in header + body + uri_query if p[0] != "oauth_signature"]
        if authorization and "realm" in authorization:  # as oauthlib: realm is not signed
            params = [p for p in params if p[0] != "realm"]
        base = signature_base_string(method, base_uri, normalize_parameters(params))
        expected = signature.sign_hmac_sha1_with_client(base, _Secrets(client_secret, token_secret))
        valid_signature = hmac.compare_digest(expected.encode(), oauth["oauth_signature"].encode())
        if not valid_client:
            return None, "Unknown consumer key"
        if not valid_signature:
            return None, "Invalid signature"
        if entry is None or entry[0] != client_key:
            return None, "Unknown or missing access token"
        return token, ""

    def _check_mandatory(self, oauth: dict[str, str]) -> str:
        """oauthlib's ``_check_mandatory_parameters`` with the emulator's validator: a reason, or ""."""
        required = ("oauth_signature", "oauth_consumer_key", "oauth_nonce", "oauth_timestamp")
        if not all(oauth.get(k) for k in (*required, "oauth_signature_method")):
            return "Missing OAuth parameters"
        if oauth["oauth_signature_method"] != SIGNATURE_HMAC_SHA1:
            return f"Unsupported signature method; only {SIGNATURE_HMAC_SHA1} is accepted"
        if oauth.get("oauth_version", "1.0") != "1.0":
            return "Invalid OAuth version"
        timestamp = oauth["oauth_timestamp"]
        try:
            stale = len(timestamp) != 10 or abs(time.time() - int(timestamp)) > self._lifetime
        except ValueError:
            stale = True
        if stale:
            return "Stale timestamp or reused nonce"
        if not 1 <= len(oauth["oauth_consumer_key"]) <= 100 or not 8 <= len(oauth["oauth_nonce"]) <= 128:
            return "Missing or malformed OAuth parameters"
        return ""

    def reset(self) -> None:
        """Forget seen nonces."""
        self._nonces.clear()


class _Validator(RequestValidator):  # type: ignore[misc]  # oauthlib ships no types
    """oauthlib's validator over the emulator's tables (for :class:`EndpointVerifier`)."""

    def __init__(self, consumers: Consumers, tokens: Tokens, nonces: _Nonces) -> None:
        super().__init__()
        self._consumers = consumers
        self._tokens = tokens
        self._nonces = nonces

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return (SIGNATURE_HMAC_SHA1,)

    @property
    def enforce_ssl(self) -> bool:
        return False  # loopback HTTP

    # Real keys are alphanumeric; the emulator's also contain '-' and '_', and nonces vary by client.
    def check_client_key(self, client_key: str) -> bool:
        return 1 <= len(client_key) <= 100

    def check_nonce(self, nonce: str) -> bool:
        return 8 <= len(nonce) <= 128

    @property
    def dummy_client(self) -> str:
        return "dummy-client"

    @property
    def dummy_access_token(self) -> str:
        return "dummy-token"

    def validate_client_key(self, client_key: str, request: object) -> bool:
        return client_key in self._consumers

    def get_client_secret(self, client_key: str, request: object) -> str:
        return self._consumers.get(client_key, _DUMMY_SECRET)

    def get_access_token_secret(self, client_key: str, token: str, request: object) -> str:
        entry = self._tokens.get(token)
        if entry is None or entry[0] != client_key:
            return _DUMMY_SECRET
        return entry[1]

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: object,
        request_token: object = None,
        access_token: object = None,
    ) -> bool:
        return self._nonces.first_use(client_key, timestamp, nonce)


class EndpointVerifier:
    """The same verification through oauthlib's ``SignatureOnlyEndpoint`` (the reference; slower)."""

    def __init__(self, consumers: Consumers, tokens: Tokens) -> None:
        """:param consumers: consumer key -> consumer secret.
        :param tokens: access token -> (consumer key, token secret, account IDs it may use)."""
        self._nonces = _Nonces(TIMESTAMP_LIFETIME)
        self._endpoint = SignatureOnlyEndpoint(_Validator(consumers, tokens, self._nonces))
        self._tokens = tokens

    def verify(self, request: SignedRequest) -> tuple[str | None, str]:
        """As :meth:`OAuthVerifier.verify`."""
        method, scheme, host, path, query, form_body, authorization = request
        uri = f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
        headers = {"Content-Type": FORM_CONTENT_TYPE} if form_body else {}
        if authorization:
            headers["Authorization"] = authorization
        try:
            valid, checked = self._endpoint.validate_request(uri, method, form_body, headers)
        except ValueError as exc:  # oauthlib rejects malformed URIs/bodies with ValueError
            return None, f"Malformed request: {exc}"
        if checked is None:
            return None, "Missing or malformed OAuth parameters"
        if not valid:
            if checked.validator_log.get("client") is False:
                return None, "Unknown consumer key"
            if not checked.validator_log:
                if not all((checked.signature, checked.client_key, checked.nonce, checked.timestamp)):
                    return None, "Missing OAuth parameters"
                return None, "Stale timestamp or reused nonce"
            return None, "Invalid signature"
        token = checked.resource_owner_key
        entry = self._tokens.get(token or "")
        if entry is None or entry[0] != checked.client_key:
            return None, "Unknown or missing access token"
        return str(token), ""

    def reset(self) -> None:
        """Forget seen nonces."""
        self._nonces.clear()
