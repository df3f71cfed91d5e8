"""OAuth 1.0a (HMAC-SHA1) verification with oauthlib, as the Ads API requires on every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849 import SIGNATURE_HMAC_SHA1

_DUMMY_SECRET = "dummy-secret-that-matches-no-signature"


class _Validator(RequestValidator):
    """Looks credentials up in the emulator's tables and remembers nonces for the timestamp window."""

    def __init__(self, consumers: Mapping[str, str], tokens: Mapping[str, tuple[str, str, tuple[str, ...]]]):
        super().__init__()
        self._consumers = consumers
        self._tokens = tokens
        self._nonces: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()
        self._last_purge = 0.0

    # Real keys are alphanumeric; the emulator's also contain '-' and '_', and nonces vary by client.
    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return (SIGNATURE_HMAC_SHA1,)

    @property
    def enforce_ssl(self) -> bool:
        return False  # loopback HTTP

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

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key in self._consumers

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self._consumers.get(client_key, _DUMMY_SECRET)

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        entry = self._tokens.get(token)
        if entry is None or entry[0] != client_key:
            return _DUMMY_SECRET
        return entry[1]

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: Any = None,
        access_token: Any = None,
    ) -> bool:
        now = time.time()
        key = (client_key, timestamp, nonce)
        with self._lock:
            if now - self._last_purge > 60:
                horizon = now - 2 * self.timestamp_lifetime
                self._nonces = {k: t for k, t in self._nonces.items() if t > horizon}
                self._last_purge = now
            if key in self._nonces:
                return False
            self._nonces[key] = now
        return True

    def reset(self) -> None:
        with self._lock:
            self._nonces.clear()


class OAuthVerifier:
    """Verify a request's OAuth 1.0a signature; say which access token signed it."""

    def __init__(self, consumers: Mapping[str, str], tokens: Mapping[str, tuple[str, str, tuple[str, ...]]]):
        """:param consumers: consumer key -> consumer secret.
        :param tokens: access token -> (consumer key, token secret, account IDs it may use)."""
        self._validator = _Validator(consumers, tokens)
        self._endpoint = SignatureOnlyEndpoint(self._validator)
        self._tokens = tokens

    def verify(self, uri: str, method: str, body: str, headers: Mapping[str, str]) -> tuple[str | None, str]:
        """Check the signature over query, form body and Authorization header parameters.

        :param uri: the full request URI as the client signed it.
        :param method: the HTTP method.
        :param body: the request body (only form-encoded bodies take part in the signature).
        :param headers: the request headers.
        :return: (access token, "") when valid, else (None, a reason safe to show: no secrets).
        """
        try:
            valid, request = self._endpoint.validate_request(uri, method, body, dict(headers))
        except ValueError as exc:  # oauthlib rejects malformed URIs/bodies with ValueError
            return None, f"Malformed request: {exc}"
        if request is None:
            return None, "Missing or malformed OAuth parameters"
        if not valid:
            if request.validator_log.get("client") is False:
                return None, "Unknown consumer key"
            if not request.validator_log:
                if not all((request.signature, request.client_key, request.nonce, request.timestamp)):
                    return None, "Missing OAuth parameters"
                return None, "Stale timestamp or reused nonce"
            return None, "Invalid signature"
        token = request.resource_owner_key
        entry = self._tokens.get(token or "")
        if entry is None or entry[0] != request.client_key:
            return None, "Unknown or missing access token"
        return token, ""

    def reset(self) -> None:
        """Forget seen nonces."""
        self._validator.reset()
