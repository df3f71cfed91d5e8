"""Keeps secrets out of the OAuth libraries' own log records, also where Airflow's masker is not installed.

requests-oauthlib and oauthlib write tokens at DEBUG (client reprs, signature base strings). The filter is
attached to their loggers when the first client is created, not at import.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from urllib.parse import quote

__all__ = ["redact_oauth_logs"]

_OAUTH_LOGGERS = (
    "requests_oauthlib",
    "requests_oauthlib.oauth1_auth",
    "requests_oauthlib.oauth1_session",
    "oauthlib",
    "oauthlib.oauth1",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
)


class _SecretRedactor(logging.Filter):
    """Replaces known secrets (and their URL-encoded forms) in log records with ``***``."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, secrets: Sequence[str]) -> None:
        for secret in secrets:
            if secret and len(secret) >= 4:
                self.secrets.update({secret, quote(secret, safe=""), quote(quote(secret, safe=""), safe="")})

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            try:
                message = record.getMessage()
            except Exception:  # a malformed record is not ours to fix
                return True
            redacted = message
            for secret in self.secrets:
                redacted = redacted.replace(secret, "***")
            if redacted != message:
                record.msg, record.args = redacted, ()
        return True


_REDACTOR = _SecretRedactor()
_installed = False
_lock = threading.Lock()


def redact_oauth_logs(secrets: Sequence[str]) -> None:
    """Hide ``secrets`` from the OAuth libraries' log records from now on.

    :param secrets: the values to hide (shorter than 4 characters: ignored).
    """
    global _installed
    with _lock:
        if not _installed:
            for name in _OAUTH_LOGGERS:
                logging.getLogger(name).addFilter(_REDACTOR)
            _installed = True
        _REDACTOR.add(secrets)
