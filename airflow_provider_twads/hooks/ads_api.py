"""``AdsApiHook``: an Airflow connection of type ``twitter_ads`` -> an X Ads API client.

Connection fields: login = consumer key, password = consumer secret; extras ``access_token``,
``access_token_secret``, ``host`` (default ``https://ads-api.x.com``), ``api_version`` (``12`` or ``11``),
``account_id`` (the default ad account) and ``timeout`` (seconds); the form is defined in
:mod:`airflow_provider_twads.connection`. Nothing is looked up or imported until the hook is used, so DAG
files can create hooks freely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_twads import connection as form
from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiValidationError

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Connection

    from airflow_provider_twads.api.aclient import AsyncAdsApiClient
    from airflow_provider_twads.api.client import AdsApiClient
    from airflow_provider_twads.api.config import Credentials, RetryPolicy

__all__ = ["AdsApiHook", "ConnectionSettings"]


@dataclass(frozen=True)
class ConnectionSettings:
    """What a ``twitter_ads`` connection says, checked. The ``repr`` holds no secret.

    :param conn_id: the connection's ID.
    :param credentials: the OAuth credentials.
    :param host: the API host URL.
    :param api_version: ``11`` or ``12``.
    :param account_id: the default ad account, if set.
    :param timeout: seconds per request.
    """

    conn_id: str
    credentials: Credentials = field(repr=False)
    host: str
    api_version: str
    account_id: str | None
    timeout: float

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`AdsApiClient` / :class:`AsyncAdsApiClient`."""
        return {
            "host": self.host,
            "api_version": self.api_version,
            "account_id": self.account_id,
            "timeout": self.timeout,
        }


def _how_to_set(conn_id: str, where: str) -> str:
    env = f"AIRFLOW_CONN_{conn_id.upper()}"
    return (
        f"Set it on connection {conn_id!r} ({where}) in the UI (Admin > Connections), with "
        f"`airflow connections add`, or in {env} / your secrets backend."
    )


def _extra(extras: Mapping[str, Any], name: str) -> Any:
    value = extras.get(name)
    return None if value in (None, "") else value


def settings_from_connection(conn: Connection, *, mask: bool = True) -> ConnectionSettings:
    """Read and check a ``twitter_ads`` connection; register its secrets with Airflow's masker.

    :param conn: the Airflow connection.
    :param mask: whether to register the secrets with the secrets masker.
    :raises AdsApiValidationError: a field is missing or malformed (the error names it and how to set it).
    """
    from airflow_provider_twads.api.config import MAX_TIMEOUT, Credentials, parse_timeout

    conn_id = conn.conn_id or form.DEFAULT_CONN_ID
    try:
        extras = conn.extra_dejson
    except Exception:  # malformed extra JSON: never echo its content (it holds secrets)
        extras = None
    if not isinstance(extras, Mapping):
        raise AdsApiValidationError(
            "extra",
            f"connection {conn_id!r}: Extra is not a JSON object",
            hint=_how_to_set(conn_id, 'Extra, e.g. {"access_token": "...", "access_token_secret": "..."}'),
        )
    consumer_key = conn.login
    consumer_secret = conn.password
    access_token = _extra(extras, "access_token")
    access_token_secret = _extra(extras, "access_token_secret")
    if mask:
        from airflow.providers.common.compat.sdk import mask_secret

        from airflow_provider_twads.api.redaction import secret_forms

        for secret in (consumer_secret, access_token, access_token_secret):
            if secret:
                # Every encoding a log line may carry (URL-encoded, repr- or JSON-escaped), not only raw.
                for variant in sorted(secret_forms(str(secret)), key=len, reverse=True):
                    mask_secret(variant)
    for name, value, where in (
        ("login", consumer_key, "Login = the app's consumer key (API key)"),
        ("password", consumer_secret, "Password = the app's consumer secret (API secret)"),
        ("access_token", access_token, "Extra field access_token"),
        ("access_token_secret", access_token_secret, "Extra field access_token_secret"),
    ):
        if not value or not str(value).strip():
            raise AdsApiValidationError(
                name, f"connection {conn_id!r}: {name} is missing", hint=_how_to_set(conn_id, where)
            )

    host = _extra(extras, "host")
    if host is None and conn.host:
        # The standard host field (e.g. from a URI): a bare host name means https.
        host = conn.host if "://" in conn.host else f"https://{conn.host}"
        if conn.port and "://" not in conn.host:
            host = f"{host}:{conn.port}"
    host = str(host or vocab.DEFAULT_HOST).strip().rstrip("/")
    if not host.startswith(("https://", "http://")):
        raise AdsApiValidationError(
            "host",
            f"connection {conn_id!r}: host {host!r} is not a URL",
            allowed=[vocab.PRODUCTION_HOST, vocab.SANDBOX_HOST],
            hint=_how_to_set(conn_id, 'Extra field host, e.g. "https://ads-api.x.com"'),
        )

    api_version = str(_extra(extras, "api_version") or vocab.DEFAULT_API_VERSION).strip()
    if api_version.endswith(".0"):
        api_version = api_version[:-2]
    if api_version not in vocab.API_VERSIONS:
        raise AdsApiValidationError(
            "api_version",
            f"connection {conn_id!r}: unsupported API version {api_version!r}",
            allowed=vocab.API_VERSIONS,
            hint=_how_to_set(conn_id, 'Extra field api_version, e.g. "12"'),
        )

    raw_timeout = _extra(extras, "timeout")
    timeout = parse_timeout(raw_timeout) if raw_timeout is not None else form.DEFAULT_TIMEOUT
    if timeout is None:
        raise AdsApiValidationError(
            "timeout",
            f"connection {conn_id!r}: timeout must be a positive number of seconds (up to {MAX_TIMEOUT:g}), "
            f"got {raw_timeout!r}",
            hint=_how_to_set(conn_id, "Extra field timeout, e.g. 30"),
        )

    account_id = _extra(extras, "account_id")
    return ConnectionSettings(
        conn_id=conn_id,
        credentials=Credentials(
            consumer_key=str(consumer_key).strip(),
            consumer_secret=str(consumer_secret).strip(),
            access_token=str(access_token).strip(),
            access_token_secret=str(access_token_secret).strip(),
        ),
        host=host,
        api_version=api_version,
        account_id=str(account_id).strip() if account_id is not None else None,
        timeout=timeout,
    )


class AdsApiHook(BaseHook):
    """Interact with the X (Twitter) Ads API through an Airflow connection of type ``twitter_ads``.

    ``get_conn()`` returns an :class:`~airflow_provider_twads.api.client.AdsApiClient` (cached: one HTTP
    session per hook) whose resource methods return parsed data::

        hook = AdsApiHook()  # twitter_ads_default
        client = hook.get_conn()
        for line_item in client.list_line_items(campaign_ids=["8gdx6"]):
            ...

    :param twitter_ads_conn_id: the connection ID.
    :param account_id: the ad account; defaults to the connection's ``account_id`` extra.
    :param retry: the client's retry policy (attempts, total wait, backoff); defaults are production-safe.
    """

    conn_name_attr = "twitter_ads_conn_id"
    default_conn_name = form.DEFAULT_CONN_ID
    conn_type = form.CONN_TYPE
    hook_name = form.HOOK_NAME

    def __init__(
        self,
        twitter_ads_conn_id: str = default_conn_name,
        account_id: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self._account_id = account_id
        self._retry = retry
        self._settings: ConnectionSettings | None = None
        self._client: AdsApiClient | None = None

    def __repr__(self) -> str:
        return (
            f"AdsApiHook(twitter_ads_conn_id={self.twitter_ads_conn_id!r}, account_id={self._account_id!r})"
        )

    # ------------------------------------------------------------------------------------------------
    # Connection
    # ------------------------------------------------------------------------------------------------
    @property
    def settings(self) -> ConnectionSettings:
        """The connection's checked settings (looked up once)."""
        if self._settings is None:
            self._settings = settings_from_connection(self.get_connection(self.twitter_ads_conn_id))
        return self._settings

    @property
    def account_id(self) -> str | None:
        """The ad account: the one given to the hook, else the connection's ``account_id`` extra."""
        return self._account_id or self.settings.account_id

    def _client_kwargs(self, settings: ConnectionSettings) -> dict[str, Any]:
        kwargs = settings.client_kwargs()
        kwargs["account_id"] = self._account_id or settings.account_id
        if self._retry is not None:
            kwargs["retry"] = self._retry
        return kwargs

    def get_conn(self) -> AdsApiClient:
        """The client for this hook's connection (created once; one HTTP session per hook)."""
        if self._client is None:
            from airflow_provider_twads.api.client import AdsApiClient

            settings = self.settings
            self._client = AdsApiClient(settings.credentials, **self._client_kwargs(settings))
        return self._client

    async def aget_async_client(self) -> AsyncAdsApiClient:
        """A new async client (for triggers); the connection is fetched asynchronously.

        The caller closes it (``await client.aclose()`` or ``async with``).
        """
        from airflow.providers.common.compat.connection import get_async_connection
        from asgiref.sync import sync_to_async

        from airflow_provider_twads.api.aclient import AsyncAdsApiClient

        if self._settings is None:
            conn = await get_async_connection(self.twitter_ads_conn_id, hook=self)
            # Registering secrets with the masker talks to the supervisor synchronously: not on the loop.
            self._settings = await sync_to_async(settings_from_connection)(conn)
        return AsyncAdsApiClient(self._settings.credentials, **self._client_kwargs(self._settings))

    def close(self) -> None:
        """Close the client's HTTP session, if one was opened."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def test_connection(self) -> tuple[bool, str]:
        """A cheap authenticated GET: the default account if set, else one page of ``GET accounts``.

        :return: ``(True, message)`` or ``(False, reason)``.
        """
        from airflow_provider_twads.api.client import AdsApiClient
        from airflow_provider_twads.api.config import RetryPolicy
        from airflow_provider_twads.api.errors import AdsApiError

        try:
            settings = self.settings
            kwargs = self._client_kwargs(settings)
            # One attempt: a test should answer now, not after minutes of backoff (nor wait out a 429).
            kwargs["retry"] = RetryPolicy(max_attempts=1, max_total_wait=0.0)
            with AdsApiClient(settings.credentials, **kwargs) as client:
                account = kwargs.get("account_id")
                if account:
                    data = client.get_account(account)
                    name = data.get("name") if isinstance(data, Mapping) else None
                    return (
                        True,
                        f"Connected to {settings.host} (API v{settings.api_version}); account {account}"
                        + (f" ({name})" if name else ""),
                    )
                page = client.list("accounts", count=1).first_page()
                return True, (
                    f"Connected to {settings.host} (API v{settings.api_version}); "
                    f"{'accounts are' if page else 'no accounts are'} visible to this token"
                )
        except AdsApiError as exc:
            return False, str(exc)
        except Exception as exc:  # the UI shows this; never raise from a connection test
            return False, f"{type(exc).__name__}: {exc}"

    # ------------------------------------------------------------------------------------------------
    # UI
    # ------------------------------------------------------------------------------------------------
    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel and hide the standard form fields (Airflow 3.0/3.1; later ones read the provider info)."""
        return form.ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The Extra fields of the form (Airflow 3.0/3.1; later ones read the provider info)."""
        return form.form_widgets()
