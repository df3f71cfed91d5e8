"""Keeps secrets out of the HTTP and OAuth libraries' own log records, at every level, also where Airflow's
masker is not installed.

At DEBUG, oauthlib logs the signature base string and the collected OAuth parameters (the access token
among them), requests-oauthlib logs the signed request's headers (the whole ``Authorization`` header) and
its client's repr; urllib3, requests, httpx and httpcore log request lines. A secret can appear raw,
URL-encoded (once or twice), repr-escaped (a quote or backslash in it gains a backslash; ``ascii()`` and
bytes reprs escape non-ASCII), or JSON-escaped. The filter here, attached to those libraries' loggers when
the first client is created (not at import):

- drops every record about signing (base string, OAuth parameters, signature, Authorization header):
  they are never logged, redacted or not;
- replaces every known form of every secret in the other records with ``***``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from urllib.parse import quote, quote_plus

__all__ = ["LIBRARY_LOGGERS", "redact_oauth_logs", "secret_forms"]

#: The loggers of the libraries a request goes through (a logger's filters apply only to records logged on
#: that very logger, not to its children's: each one is named). Others under these prefixes that exist
#: when the filter is installed get it too.
LIBRARY_LOGGERS = (
    "oauthlib",
    "oauthlib.common",
    "oauthlib.oauth1",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
    "oauthlib.oauth1.rfc5849.endpoints.resource",
    "oauthlib.oauth1.rfc5849.endpoints.signature_only",
    "requests_oauthlib",
    "requests_oauthlib.oauth1_auth",
    "requests_oauthlib.oauth1_session",
    "requests",
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)
_PREFIXES = ("oauthlib", "requests_oauthlib", "requests", "urllib3", "httpx", "httpcore")

# What a signing record looks like: never logged at all.
_SIGNING = re.compile(
    r"signature base string|authorization|oauth_(signature|token|nonce|consumer_key)|"
    r"collected params|normalized params|signing request|updated headers|^signature:",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _escaped(text: str, *, doubled: bool = False) -> set[str]:
    """``text`` as a repr shows it inside quotes: backslashes doubled, and either quote escaped or not."""
    body = text if doubled else text.replace("\\", "\\\\")
    return {body, body.replace("'", "\\'"), body.replace('"', '\\"')}


def secret_forms(secret: str) -> set[str]:
    """The ways ``secret`` can appear in a log line: raw, URL-encoded (once, twice, form-style, lower-case
    hex), repr-escaped (either quote, ``ascii()``, as bytes), JSON-escaped (ASCII or not). Forms shorter than
    4 characters are left out (they would mask ordinary text).

    :param secret: the secret.
    """
    forms = {secret, quote(secret, safe=""), quote(quote(secret, safe=""), safe=""), quote_plus(secret)}
    forms |= {_PERCENT.sub(lambda m: m.group(0).lower(), f) for f in list(forms)}
    forms |= _escaped(secret) | _escaped(secret.encode("unicode_escape").decode("ascii"), doubled=True)
    forms |= {ascii(secret)[1:-1], repr(secret.encode())[2:-1]}
    forms |= {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    for inner in _escaped(secret):  # a repr inside a repr (a dict of reprs logged with %r)
        forms |= _escaped(inner)
    return {f for f in forms if len(f) >= 4}


class _SecretRedactor(logging.Filter):
    """Drops signing records; replaces every known form of the secrets in the others with ``***``."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[str] = []  # longest first: a longer encoding is replaced before its substrings
        self._secrets: set[str] = set()

    def add(self, secrets: Iterable[str]) -> None:
        new = {s for s in secrets if s and len(s) >= 4} - self._secrets
        if new:
            self._secrets |= new
            forms = set(self.forms).union(*(secret_forms(s) for s in new))
            self.forms = sorted(forms, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: its raw parts are still redacted below
            message = f"{record.msg} {record.args}"
        if _SIGNING.search(message):
            return False
        redacted = message
        for form in self.forms:
            redacted = redacted.replace(form, "***")
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and record.exc_info[1] is not None:
            # An exception's text is rendered later by the handler: render (and redact) it now.
            text = logging.Formatter().formatException(record.exc_info)
            for form in self.forms:
                text = text.replace(form, "***")
            record.exc_info, record.exc_text = None, None
            record.msg = f"{record.msg}\n{text}"
        return True


_REDACTOR = _SecretRedactor()
_installed = False
_lock = threading.Lock()


def _install(names: Sequence[str]) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


def redact_oauth_logs(secrets: Sequence[str]) -> None:
    """Hide ``secrets`` (every encoding) from the HTTP and OAuth libraries' log records from now on, and
    drop their signing records.

    :param secrets: the values to hide (shorter than 4 characters: ignored).
    """
    global _installed
    with _lock:
        if not _installed:
            _install(LIBRARY_LOGGERS)
            _installed = True
        existing = [n for n in list(logging.Logger.manager.loggerDict) if n.split(".")[0] in _PREFIXES]
        _install(existing)
        _REDACTOR.add(secrets)
