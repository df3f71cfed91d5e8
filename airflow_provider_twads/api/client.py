"""The synchronous Ads API client: one ``requests-oauthlib`` session, tenacity retries, the shared core.

The transport here only signs and sends (``OAuth1Session``), sleeps, and maps ``requests`` exceptions;
validation, encoding, error parsing, pacing and retry decisions come from :mod:`.core`, the network
(proxy, CA bundle) from :mod:`.network`, and the per-resource methods from :mod:`.resources`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.analytics import AnalyticsMethods
from airflow_provider_twads.api.analytics_jobs import AnalyticsJobsMethods
from airflow_provider_twads.api.core import ClientCore, ClientStats, Credentials, PreparedRequest, RetryPolicy
from airflow_provider_twads.api.errors import (
    AccountFeatureError,
    AdsApiError,
)
from airflow_provider_twads.api.network import network_policy
from airflow_provider_twads.api.resources import ResourceMethods

if TYPE_CHECKING:
    import requests

__all__ = ["AdsApiClient", "Credentials", "RetryPolicy"]

log = logging.getLogger("airflow_provider_twads.api")


def _not_sent(exc: BaseException) -> bool:
    """Whether a ``requests`` connection error happened before the request left (safe to re-send)."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return True
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        cur = stack.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, NewConnectionError | ConnectTimeoutError):
            return True
        stack.extend(
            [getattr(cur, "reason", None), getattr(cur, "__cause__", None), getattr(cur, "__context__", None)]
        )
        stack.extend(a for a in getattr(cur, "args", ()) if isinstance(a, BaseException))
    return False


class AdsApiClient(ResourceMethods, AnalyticsMethods, AnalyticsJobsMethods):
    """X Ads API client (sync). Thread-safe for reads; one HTTP session with keep-alive per client.

    :param credentials: the OAuth 1.0a credentials.
    :param host: the API host: ``https://ads-api.x.com``, the sandbox, or an emulator's URL.
    :param api_version: ``12`` (default) or ``11``.
    :param account_id: the default ad account for methods called without ``account_id=``.
    :param timeout: seconds per request (connect and read).
    :param retry: the retry policy (attempts, total wait, backoff).
    :param sleep: how to wait (injectable for tests).
    :param clock: epoch-seconds clock (injectable for tests).
    :param pool_maxsize: connections kept alive.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        host: str = vocab.DEFAULT_HOST,
        api_version: str = vocab.DEFAULT_API_VERSION,
        account_id: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        pool_maxsize: int = 10,
    ) -> None:
        self._core = ClientCore(
            credentials,
            host=host,
            api_version=api_version,
            account_id=account_id,
            timeout=timeout,
            retry=retry,
            clock=clock,
        )
        self._sleep = sleep
        self._pool_maxsize = pool_maxsize
        self._session: requests.Session | None = None

    # ------------------------------------------------------------------------------------------------
    # Plumbing
    # ------------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (
            f"AdsApiClient(host={self.host!r}, api_version={self.api_version!r}, "
            f"account_id={self.account_id!r}, consumer_key={self._core.credentials.consumer_key!r})"
        )

    def __enter__(self) -> AdsApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def host(self) -> str:
        """The API host."""
        return self._core.host

    @property
    def api_version(self) -> str:
        """The API version in the paths."""
        return self._core.api_version

    @property
    def account_id(self) -> str | None:
        """The default ad account."""
        return self._core.account_id

    @property
    def stats(self) -> ClientStats:
        """Requests sent, retries, seconds waited and responses by status."""
        return self._core.stats

    @property
    def core(self) -> ClientCore:
        """The shared core (request building, parsing, retry decisions)."""
        return self._core

    @property
    def session(self) -> requests.Session:
        """The one HTTP session of this client, created on first use."""
        if self._session is None:
            import requests
            from requests_oauthlib import OAuth1Session

            creds = self._core.credentials
            session = OAuth1Session(
                creds.consumer_key,
                client_secret=creds.consumer_secret,
                resource_owner_key=creds.access_token,
                resource_owner_secret=creds.access_token_secret,
            )
            # No hidden urllib3 retries: every retry decision is ours (and logged).
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=1, pool_maxsize=self._pool_maxsize, max_retries=0
            )
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # One host: the proxy and CA bundle are resolved once, by the policy both clients share.
            policy = network_policy(self.host)
            session.trust_env = False
            session.proxies = {"http": policy.proxy, "https": policy.proxy} if policy.proxy else {}
            session.verify = policy.verify
            session.headers["User-Agent"] = "airflow-provider-twads"
            self._session = session
        return self._session

    def close(self) -> None:
        """Close the HTTP session (the client can be used again; it opens a new one)."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def _send_once(self, req: PreparedRequest) -> dict[str, Any]:
        import requests

        wait = self._core.pacing_wait(req)
        if wait > 0:
            self._sleep(wait)
        sent_at = self._core.clock()
        try:
            resp = self.session.request(
                req.method,
                req.url,
                data=req.body,
                headers=req.headers,
                timeout=self._core.timeout,
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as exc:
            raise self._core.transport_error(
                req, f"{type(exc).__name__}: {exc}", maybe_sent=not _not_sent(exc)
            ) from None
        return self._core.handle_response(req, resp.status_code, resp.headers, resp.content, sent_at=sent_at)

    def send(self, req: PreparedRequest) -> dict[str, Any]:
        """Send a prepared request with pacing and retries; return the parsed envelope.

        :param req: the request (from the core).
        """
        from tenacity import Retrying

        for attempt in Retrying(sleep=self._sleep, **self._core.tenacity_kwargs(req)):
            with attempt:
                try:
                    return self._send_once(req)
                except AccountFeatureError as exc:
                    self._explain_features(exc, req.account_id)
                    raise
        raise AssertionError("unreachable")  # pragma: no cover  (tenacity re-raises)

    def _explain_features(self, exc: AccountFeatureError, account_id: str | None) -> None:
        if not account_id or exc.account_features is not None:
            return
        try:
            features = self.get_account_features(account_id=account_id)
        except AdsApiError as lookup_error:
            log.info("Could not list the features of account %s: %s", account_id, lookup_error)
            features = None
        exc.with_account_features(account_id, features)

    # ------------------------------------------------------------------------------------------------
    # Generic calls
    # ------------------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> dict[str, Any]:
        """Send any request (no spec validation) with pacing and retries; return the parsed envelope.

        :param method: HTTP method.
        :param path: the path after the version, e.g. ``accounts/18ce54d4x5t/line_items``.
        :param params: query parameters (lists are comma-joined, booleans lower-case).
        :param json_body: a JSON body (batch endpoints).
        """
        return self.send(self._core.build(method, path, params, json_body))
