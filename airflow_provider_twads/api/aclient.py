"""The asynchronous Ads API client for triggers: oauthlib signing, ``httpx.AsyncClient``, the shared core.

Only signing, sending, sleeping and exception mapping are here; validation, encoding, error parsing,
pacing, retry decisions and cursor state come from :mod:`.core` and :mod:`.paging`, and the proxy and CA
bundle from :mod:`.network`, exactly as for the sync client.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.core import ClientCore, ClientStats, Credentials, PreparedRequest, RetryPolicy
from airflow_provider_twads.api.errors import AccountFeatureError, AdsApiError
from airflow_provider_twads.api.network import network_policy
from airflow_provider_twads.api.paging import AsyncCursor

if TYPE_CHECKING:
    import httpx
    from oauthlib.oauth1 import Client as OAuth1Client

__all__ = ["AsyncAdsApiClient"]


#: One SSL context per CA bundle per process: loading a bundle costs about 25 ms of CPU, which on a
#: triggerer's loop, once per trigger, stalled every other trigger (issue 16).
_SSL_CONTEXTS: dict[bool | str, ssl.SSLContext] = {}
_SSL_LOCK = threading.Lock()

#: Called before each request is sent (after the core's own pacing): a shared pacer for many triggers.
BeforeSend = Callable[[PreparedRequest], Awaitable[None]]
#: Called with each response's headers (our clock when it arrived, and when the request left).
OnResponse = Callable[[PreparedRequest, Mapping[str, str], float, float], None]


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """The SSL context for the policy's CA bundle (a path is a file, or a directory of hashed certs).

    ``True`` means what httpx would load itself (certifi's bundle). Built once per bundle and process;
    it loads files, so call it off the event loop the first time (:meth:`AsyncAdsApiClient.aopen`).
    """
    key: bool | str = verify if isinstance(verify, str) else True
    with _SSL_LOCK:
        context = _SSL_CONTEXTS.get(key)
        if context is None:
            if isinstance(verify, str) and os.path.isdir(verify):
                context = ssl.create_default_context(capath=verify)
            elif isinstance(verify, str):
                context = ssl.create_default_context(cafile=verify)
            else:
                import certifi

                context = ssl.create_default_context(cafile=certifi.where())
            _SSL_CONTEXTS[key] = context
        return context


class AsyncAdsApiClient:
    """X Ads API client (async), for triggers. Same constructor as the sync client.

    :param credentials: the OAuth 1.0a credentials.
    :param host: the API host.
    :param api_version: ``12`` (default) or ``11``.
    :param account_id: the default ad account.
    :param timeout: seconds per request.
    :param retry: the retry policy.
    :param sleep: an async sleep (injectable for tests).
    :param clock: epoch-seconds clock (injectable for tests).
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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
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
        self._http: httpx.AsyncClient | None = None
        self._signer: OAuth1Client | None = None
        self._keepalive_expiry: float | None = None
        #: Awaited before each request is sent (a shared pacer); ``None``: none.
        self.before_send: BeforeSend | None = None
        #: Told every response's headers (a shared view of the rate-limit headers); ``None``: none.
        self.on_response: OnResponse | None = None

    def __repr__(self) -> str:
        return (
            f"AsyncAdsApiClient(host={self._core.host!r}, api_version={self._core.api_version!r}, "
            f"account_id={self._core.account_id!r}, consumer_key={self._core.credentials.consumer_key!r})"
        )

    async def __aenter__(self) -> AsyncAdsApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def stats(self) -> ClientStats:
        """Requests sent, retries, seconds waited and responses by status."""
        return self._core.stats

    @property
    def core(self) -> ClientCore:
        """The shared core."""
        return self._core

    @property
    def account_id(self) -> str | None:
        """The default ad account."""
        return self._core.account_id

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx
            from oauthlib.oauth1 import Client as OAuth1Client

            creds = self._core.credentials
            self._signer = OAuth1Client(
                creds.consumer_key,
                client_secret=creds.consumer_secret,
                resource_owner_key=creds.access_token,
                resource_owner_secret=creds.access_token_secret,
            )
            # The same proxy and CA bundle as the sync client (TLS verification is always on).
            policy = network_policy(self._core.host)
            limits = httpx.Limits(
                max_connections=100,
                max_keepalive_connections=20,
                keepalive_expiry=5.0 if self._keepalive_expiry is None else self._keepalive_expiry,
            )
            self._http = httpx.AsyncClient(
                timeout=self._core.timeout,
                verify=_ssl_context(policy.verify),
                proxy=policy.proxy,
                trust_env=False,
                follow_redirects=False,
                headers={"User-Agent": "airflow-provider-twads"},
                limits=limits,
            )
        return self._http

    async def aopen(self, *, keepalive_expiry: float | None = None) -> None:
        """Build the HTTP client now, off the event loop (CA bundle, proxy policy); optional.

        Without it the first request builds it on the loop, which is fine for one client and a stall for
        hundreds.

        :param keepalive_expiry: seconds an idle connection is kept (longer than the poll interval keeps
            one TLS session across polls); ``None``: httpx's default (5 s).
        """
        if self._http is None:
            self._keepalive_expiry = keepalive_expiry
            await asyncio.to_thread(self._client)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _send_once(self, req: PreparedRequest) -> dict[str, Any]:
        import httpx

        wait = self._core.pacing_wait(req)
        if wait > 0:
            await self._sleep(wait)
        if self.before_send is not None:
            await self.before_send(req)
        http = self._client()
        assert self._signer is not None
        # The JSON body is not part of an OAuth 1.0a signature (only form bodies are): sign the URL.
        url, headers, _ = self._signer.sign(req.url, http_method=req.method)
        headers = {**req.headers, **headers}
        sent_at = self._core.clock()
        try:
            resp = await http.request(req.method, url, content=req.body, headers=headers)
        except httpx.HTTPError as exc:
            not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
            raise self._core.transport_error(
                req, f"{type(exc).__name__}: {exc}", maybe_sent=not not_sent
            ) from None
        if self.on_response is not None:
            self.on_response(req, resp.headers, self._core.clock(), sent_at)
        return self._core.handle_response(req, resp.status_code, resp.headers, resp.content, sent_at=sent_at)

    async def send(self, req: PreparedRequest) -> dict[str, Any]:
        """Send a prepared request with pacing and retries; return the parsed envelope.

        :param req: the request (from the core).
        """
        from tenacity import AsyncRetrying

        async for attempt in AsyncRetrying(sleep=self._sleep, **self._core.tenacity_kwargs(req)):
            with attempt:
                try:
                    return await self._send_once(req)
                except AccountFeatureError as exc:
                    if req.account_id and exc.account_features is None:
                        try:
                            data = await self.acall("accounts.features", account_id=req.account_id)
                            exc.with_account_features(req.account_id, [str(f) for f in data or []])
                        except AdsApiError:
                            exc.with_account_features(req.account_id, None)
                    raise
        raise AssertionError("unreachable")  # pragma: no cover  (tenacity re-raises)

    async def request(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        """Send any request (no spec validation); return the parsed envelope.

        :param method: HTTP method.
        :param path: the path after the version.
        :param params: query parameters.
        :param json_body: a JSON body.
        """
        return await self.send(self._core.build(method, path, params, json_body))

    async def acall(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        account_id: str | None = None,
        **path_ids: str,
    ) -> Any:
        """Validate and send one operation of the spec; return the response's ``data``.

        :param operation: e.g. ``line_items.get``.
        :param params: the operation's parameters.
        :param account_id: the account, else the client's default.
        :param path_ids: IDs in the path.
        """
        req = self._core.prepare(operation, params, account_id=account_id, **path_ids)
        return (await self.send(req)).get("data")

    def alist(
        self,
        resource: str,
        *,
        account_id: str | None = None,
        count: int | None = None,
        cursor: str | None = None,
        **filters: Any,
    ) -> AsyncCursor:
        """An async iterator over the entities of ``resource`` (``async for``), one page in memory.

        :param resource: ``campaigns``, ``line_items``, ``targeting_criteria`` or ``promoted_tweets``.
        :param account_id: the account, else the client's default.
        :param count: page size, 1..1000 (default 1000).
        :param cursor: resume from an earlier ``next_cursor``.
        :param filters: the endpoint's filters.
        """
        state, template = self._core.cursor_state(
            resource, filters, account_id=account_id, count=count, cursor=cursor
        )

        async def fetch(params: dict[str, Any]) -> dict[str, Any]:
            return await self.send(self._core.page_request(template, params))

        return AsyncCursor(state, fetch)
