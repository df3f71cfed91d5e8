"""The ``twitter_ads`` connection type: its names and its form, defined once.

The form is one table (:data:`EXTRA_FIELDS` plus the standard-field behaviour); every shape an Airflow UI
reads is derived from it:

- :func:`provider_connection_type`: declarative ``conn-fields`` / ``ui-field-behaviour`` in the provider
  info, read without importing the hook (Airflow 3.2 and later);
- :func:`ui_field_behaviour` and :func:`form_widgets`: the hook classmethods that Airflow 3.0 and 3.1 call
  (their API server turns the wtforms fields into the same JSON schema, with or without the FAB provider).

Nothing here imports Airflow, and wtforms is imported only inside :func:`form_widgets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from airflow_provider_twads.api import vocabulary as vocab

__all__ = [
    "CONN_TYPE",
    "DEFAULT_CONN_ID",
    "DEFAULT_TIMEOUT",
    "EXTRA_FIELDS",
    "FormField",
    "form_widgets",
    "provider_connection_type",
    "ui_field_behaviour",
]

CONN_TYPE = "twitter_ads"
#: The connection every hook, operator, sensor and trigger uses unless told otherwise.
DEFAULT_CONN_ID = "twitter_ads_default"
HOOK_CLASS_NAME = "airflow_provider_twads.hooks.ads_api.AdsApiHook"
HOOK_NAME = "X Ads API"
#: Seconds per request when the connection's ``timeout`` extra is not set.
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class FormField:
    """One custom field of the connection form (stored in the connection's Extra under ``name``).

    :param name: the Extra key.
    :param label: the field's label.
    :param description: the help text shown under the field.
    :param kind: ``string``, ``integer`` or ``number``. Short values are stored as numbers, not strings:
        Airflow registers every string in Extra with its secrets masker, which warns about short ones.
    :param secret: a password input, masked in logs and the UI.
    :param default: the pre-filled value, if any.
    :param choices: the allowed values, if the set is finite.
    """

    name: str
    label: str
    description: str
    kind: Literal["string", "integer", "number"] = "string"
    secret: bool = False
    default: str | float | None = None
    choices: tuple[str | int, ...] | None = None

    def json_schema(self) -> dict[str, Any]:
        """The field's JSON schema (``conn-fields`` ``schema``); every field may be left empty."""
        schema: dict[str, Any] = {"type": [self.kind, "null"]}
        if self.secret:
            schema["format"] = "password"
        if self.choices is not None:
            schema["enum"] = [*self.choices, None]
        if self.default is not None:
            schema["default"] = self.default
        return schema


EXTRA_FIELDS: tuple[FormField, ...] = (
    FormField(
        "access_token",
        "Access token",
        "The OAuth 1.0a access token of the user who manages the ad account.",
        secret=True,
    ),
    FormField(
        "access_token_secret",
        "Access token secret",
        "The OAuth 1.0a access token secret that goes with the access token.",
        secret=True,
    ),
    FormField(
        "host",
        "API host",
        f"{vocab.PRODUCTION_HOST} (production), {vocab.SANDBOX_HOST} (sandbox) or the URL of a local "
        "emulator.",
        default=vocab.DEFAULT_HOST,
    ),
    FormField(
        "api_version",
        "API version",
        "The Ads API version in the request paths.",
        kind="integer",
        default=int(vocab.DEFAULT_API_VERSION),
        choices=tuple(int(v) for v in vocab.API_VERSIONS),
    ),
    FormField(
        "account_id",
        "Default ad account ID",
        "The ad account used when a task names none, e.g. 18ce54d4x5t.",
    ),
    FormField(
        "timeout",
        "Request timeout (seconds)",
        "Seconds to wait for each API response.",
        kind="number",
        default=int(DEFAULT_TIMEOUT),
    ),
)

#: Standard fields the connection does not use (the API host is an extra: it is a URL, not a host name).
HIDDEN_FIELDS = ("schema", "port", "host")
RELABELING = {"login": "Consumer key (API key)", "password": "Consumer secret"}
PLACEHOLDERS = {
    "login": "your app's consumer key",
    "password": "your app's consumer secret",
}


def provider_connection_type() -> dict[str, Any]:
    """The ``connection-types`` entry of the provider info (declarative form, Airflow 3.2 and later)."""
    return {
        "connection-type": CONN_TYPE,
        "hook-class-name": HOOK_CLASS_NAME,
        "hook-name": HOOK_NAME,
        "ui-field-behaviour": {
            "hidden-fields": list(HIDDEN_FIELDS),
            "relabeling": dict(RELABELING),
            "placeholders": dict(PLACEHOLDERS),
        },
        "conn-fields": {
            f.name: {
                "label": f.label,
                "description": f.description,
                "schema": f.json_schema(),
                **({"sensitive": True} if f.secret else {}),
            }
            for f in EXTRA_FIELDS
        },
    }


def ui_field_behaviour() -> dict[str, Any]:
    """``AdsApiHook.get_ui_field_behaviour()`` (read by Airflow 3.0 and 3.1)."""
    return {
        "hidden_fields": list(HIDDEN_FIELDS),
        "relabeling": dict(RELABELING),
        "placeholders": dict(PLACEHOLDERS),
    }


def form_widgets() -> dict[str, Any]:
    """``AdsApiHook.get_connection_form_widgets()``: wtforms fields (read by Airflow 3.0 and 3.1).

    Those versions' API server calls this with wtforms and flask_appbuilder replaced by stand-ins that
    turn each field into a JSON schema (label, description, default, enum); without them (plain Python, or
    Airflow 3.0 without the FAB provider) there is no form to build and the result is empty.
    """
    try:
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import IntegerField, PasswordField, StringField
        from wtforms.validators import Optional, any_of
    except ImportError:
        return {}
    widgets: dict[str, Any] = {}
    for f in EXTRA_FIELDS:
        validators = [Optional()]
        if f.choices is not None:
            validators.append(any_of([*f.choices, None]))
        if f.secret:
            field_class, widget = PasswordField, BS3PasswordFieldWidget
        else:  # these UIs know no fractional numbers: a timeout there is whole seconds
            field_class, widget = (StringField if f.kind == "string" else IntegerField), BS3TextFieldWidget
        widgets[f.name] = field_class(
            lazy_gettext(f.label),
            validators=validators,
            description=lazy_gettext(f.description),
            default=f.default,
            widget=widget(),
        )
    return widgets
