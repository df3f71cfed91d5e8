"""Campaigns, keyed by ``name`` within the ad account: ensure, update, delete; and the funding instrument a
new campaign spends from.

Like line items (:mod:`.line_items`): look before writing, reuse what matches, report a readable diff for
what does not (or update it on request), and after an ambiguous POST read by name before writing again
(:func:`~._common.write_missing`). :func:`find_campaigns_by_name` is the natural-key read and
:func:`pick_survivor` the one rule that chooses among several campaigns of one name (ACTIVE first, then the
earliest created, then the smallest ID: :func:`._converge.rank`).

Then, as for line items, the name is read back until settled (:mod:`._converge`): when several writers
created one name at once (overlapping runs, a zombie beside its retry), all of them return the same
campaign and the extras are deleted. Never deleted: an ACTIVE campaign (it may be spending) and a campaign
that holds line items (someone built on it; only a warning). A campaign asked ``ACTIVE`` is created
``PAUSED`` and only the survivor is activated, so racers never leave two campaigns spending.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import spec as api_spec
from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import (
    AdsApiError,
    AdsApiValidationError,
    AmbiguousWriteError,
    DraftEntityError,
)
from airflow_provider_twads.api.params.fields import CAMPAIGN_CREATE_ONLY_FIELDS, CAMPAIGN_UPDATE_FIELDS
from airflow_provider_twads.reconcile._common import (
    Progress,
    check_choice,
    delete_entity,
    entity_field,
    noop,
    write_missing,
)
from airflow_provider_twads.reconcile._converge import ACTIVE, converge, delete_each, rank
from airflow_provider_twads.reconcile._line_item_create import find_line_items_by_name
from airflow_provider_twads.reconcile.errors import ReconcileError, SettingsMismatchError, rerun_advice

if TYPE_CHECKING:
    from airflow_provider_twads.api.client import AdsApiClient

__all__ = [
    "CampaignResult",
    "CampaignSettingsMismatchError",
    "FundingInstrumentError",
    "delete_campaign",
    "diff_campaign",
    "ensure_campaign",
    "find_campaigns_by_name",
    "pick_survivor",
    "resolve_funding_instrument",
    "update_campaign",
]

log = logging.getLogger(__name__)

IF_EXISTS_MODES: tuple[str, ...] = ("reuse", "update")
# The key, and the status (a later step's, or the Ads UI's for a draft): never part of the settings diff, so
# that re-running the create after the campaign was activated neither fails nor pauses it.
DIFF_EXCLUDED: frozenset[str] = frozenset({"name", "entity_status"})
DRAFT_HINT = (
    f"Draft campaigns are activated or paused only in the Ads UI ({vocab.ADS_UI_URL}); the API refuses it. "
    "Activate the draft there (a sensor can wait for its entity_status), or create the campaign PAUSED."
)


@dataclass(frozen=True)
class CampaignResult:
    """What happened to the requested campaign.

    :param id: the campaign ID.
    :param name: its name.
    :param funding_instrument_id: the funding instrument it spends from.
    :param action: ``created``, ``reused`` or ``updated``.
    """

    id: str
    name: str
    funding_instrument_id: str
    action: str


class FundingInstrumentError(ReconcileError):
    """No funding instrument was given and the account has not exactly one active one.

    :param message: what was found, one instrument per line.
    :param funding_instruments: the account's funding instruments (as the API returned them).
    """

    def __init__(self, message: str, *, funding_instruments: Sequence[Mapping[str, Any]] = ()) -> None:
        self.funding_instruments = [dict(f) for f in funding_instruments]
        super().__init__(message)

    @property
    def deterministic(self) -> bool:
        """Until a person changes the account's funding instruments, every try finds the same ones."""
        return True


class CampaignSettingsMismatchError(SettingsMismatchError):
    """A campaign of the requested name exists with other settings (a :class:`SettingsMismatchError`).

    :param name: the campaign name.
    :param campaign_id: the existing campaign's ID.
    :param diff: ``{setting: (existing, requested)}``, as from :func:`diff_campaign`.
    :param immutable: ``True`` when a differing setting (the funding instrument) cannot be changed.
    """

    def __init__(
        self, name: str, campaign_id: str, diff: Mapping[str, tuple[Any, Any]], *, immutable: bool = False
    ) -> None:
        self.mismatches = [(name, campaign_id, dict(diff))]
        self.immutable = immutable
        lines = [f"Campaign {name!r} (id {campaign_id}) exists with other settings:"]
        lines += [
            f"  {key}: existing {have!r}, requested {want!r}" for key, (have, want) in sorted(diff.items())
        ]
        if immutable:
            lines.append(
                "funding_instrument_id cannot be changed after creation: give the campaign another name, "
                "or delete the existing one first."
            )
        else:
            lines.append(
                'Pass if_exists="update" to update the existing campaign, or give this one another name.'
            )
        ReconcileError.__init__(self, "\n".join(lines))


# ---------------------------------------------------------------------------------------------------------
# Pure parts
# ---------------------------------------------------------------------------------------------------------
def _api_version(client: AdsApiClient) -> str:
    return str(getattr(client, "api_version", vocab.DEFAULT_API_VERSION))


def _canonical(params: Mapping[str, Any], operation: str, api_version: str) -> dict[str, Any]:
    """Validated with the client's table (before any HTTP); ``None`` means "not given"."""
    return api_spec.validate(operation, {k: v for k, v in params.items() if v is not None}, api_version)


def _same(want: Any, have: Any) -> bool:
    if want == "":  # a clear: already done when the field is unset
        return have is None or have == ""
    if isinstance(want, bool) or isinstance(have, bool):
        return str(want).lower() == str(have).lower()
    return str(want) == str(have)


def diff_campaign(
    desired: Mapping[str, Any], existing: Mapping[str, Any], *, exclude: Iterable[str] = DIFF_EXCLUDED
) -> dict[str, tuple[Any, Any]]:
    """The requested settings in which an existing campaign differs (validated parameters in, API entity).

    :param desired: the requested parameters, already validated (``None`` values are not compared).
    :param existing: the campaign as the API returns it.
    :param exclude: settings not compared (by default ``name`` and ``entity_status``).
    :return: ``{setting: (existing value, requested value)}``, empty when they match.
    """
    skip = set(exclude)
    return {
        key: (existing.get(key), want)
        for key, want in desired.items()
        if key not in skip and want is not None and not _same(want, existing.get(key))
    }


def pick_survivor(campaigns: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The one campaign every writer keeps among several of one name: an ACTIVE one first, then the earliest
    created (``created_at``, then ID), the rule of :mod:`._converge`.

    Every writer reading the same set chooses the same one, whatever order the API listed them in.

    :param campaigns: non-deleted campaigns of one name (at least one).
    """
    return min(campaigns, key=lambda c: rank(c, active_first=True))


def _describe_instrument(fi: Mapping[str, Any]) -> str:
    label = fi.get("name") or fi.get("description") or ""
    parts = [str(fi.get(k)) for k in ("type", "currency", "entity_status") if fi.get(k)]
    if fi.get("able_to_fund") is False:
        parts.append("not able to fund")
    return f"  {fi.get('id')}: {label!s} ({', '.join(parts)})".replace(" ()", "")


def _usable(fi: Mapping[str, Any]) -> bool:
    return fi.get("entity_status") == "ACTIVE" and fi.get("able_to_fund") is not False


# ---------------------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------------------
def find_campaigns_by_name(
    client: AdsApiClient, names: Iterable[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Index the account's non-deleted campaigns (drafts included) by name, oldest first.

    Every page is read (1000 per page): the ``q`` filter is not an exact-name match in the reference, so
    narrowing with it could miss the campaign and create a second one.

    :param client: the API client.
    :param names: keep only these names (``None``: all).
    :return: ``{name: [campaigns, oldest first]}``.
    """
    wanted = None if names is None else {str(n) for n in names}
    index: dict[str, list[dict[str, Any]]] = {}
    for item in client.list_campaigns(count=vocab.BULK_READ_COUNT, with_draft=True):
        if item.get("deleted"):
            continue
        entity_field(item, "id", "campaign")
        name = str(item.get("name"))
        if wanted is None or name in wanted:
            index.setdefault(name, []).append(item)
    for items in index.values():
        items.sort(key=lambda c: (str(c.get("created_at") or ""), str(c.get("id"))))
    return index


def resolve_funding_instrument(
    client: AdsApiClient, funding_instrument_id: str | None = None, *, progress: Progress = noop
) -> dict[str, Any]:
    """The funding instrument to create a campaign under: the one given, or the account's only active one.

    :param client: the API client.
    :param funding_instrument_id: the funding instrument, or ``None`` to pick the account's active one.
    :param progress: receives progress lines.
    :raises FundingInstrumentError: none given, and the account has no or several active (able to fund)
        funding instruments; the message lists them all.
    :raises NotFoundError: the given one does not exist in the account.
    """
    if funding_instrument_id:
        fi = client.get_funding_instrument(str(funding_instrument_id))
        if not _usable(fi):  # the API decides; say why its refusal is likely
            log.warning(
                "Funding instrument %s may not fund a campaign:%s", fi.get("id"), _describe_instrument(fi)
            )
        return fi
    every = [f for f in client.list_funding_instruments(count=vocab.BULK_READ_COUNT) if not f.get("deleted")]
    usable = [f for f in every if _usable(f)]
    if len(usable) == 1:
        progress(f"Using the account's only active funding instrument:{_describe_instrument(usable[0])}")
        return dict(usable[0])
    listing = "\n".join(_describe_instrument(f) for f in every) or "  (none)"
    account = getattr(client, "account_id", None) or "the account"
    what = "no active funding instrument" if not usable else f"{len(usable)} active funding instruments"
    raise FundingInstrumentError(
        f"No funding_instrument_id was given and {account} has {what}; its funding instruments:\n{listing}\n"
        + (
            "Pass funding_instrument_id= with one of the IDs above."
            if usable
            else "Add or activate a funding instrument in the Ads UI, or pass funding_instrument_id=."
        ),
        funding_instruments=every,
    )


# ---------------------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------------------
def _validate_spec(spec: Mapping[str, Any], if_exists: str, api_version: str) -> dict[str, Any]:
    """The create parameters checked with the table, the funding instrument possibly still to resolve."""
    operation = "campaigns.create"
    check_choice("if_exists", if_exists, IF_EXISTS_MODES, operation=operation)
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise AdsApiValidationError("name", "must be a non-empty string", operation=operation)
    fi = spec.get("funding_instrument_id")
    # A stand-in ID while the account's own is unknown: everything else is checked before any HTTP call.
    checked = _canonical({**spec, "funding_instrument_id": fi or "0"}, operation, api_version)
    if not fi:
        del checked["funding_instrument_id"]
    return checked


def ensure_campaign(
    client: AdsApiClient, spec: Mapping[str, Any], *, if_exists: str = "reuse", progress: Progress = noop
) -> CampaignResult:
    """Make sure a campaign of ``spec["name"]`` exists with these settings; create it only when missing.

    A non-deleted campaign (drafts included) of that name is reused when its requested settings match,
    updated when ``if_exists="update"``, and otherwise reported in a :class:`CampaignSettingsMismatchError`
    before anything is written. The funding instrument is resolved only when a campaign is created (without
    ``funding_instrument_id``, an existing campaign of that name is reused whatever it spends from). A
    POST that ends ambiguously is followed by a read by name; it is re-sent only if nothing was created.

    Then the name is read back until settled (:mod:`._converge`): when several writers created it at once,
    all of them return the same campaign (ACTIVE first, then the earliest created) and the extras are
    deleted, except ACTIVE ones and ones holding line items. A spec asking ``ACTIVE`` is created ``PAUSED``
    and only that survivor is activated.

    :param client: the API client.
    :param spec: POST parameters (``name`` required; ``funding_instrument_id`` optional).
    :param if_exists: ``reuse`` or ``update``.
    :param progress: receives progress lines.
    """
    api_version = _api_version(client)
    wanted = _validate_spec(spec, if_exists, api_version)
    name = str(wanted["name"])
    started = time.monotonic()
    index = find_campaigns_by_name(client, [name])
    found = index.get(name, [])
    if found:
        result = _reuse(client, dict(pick_survivor(found)), wanted, if_exists, progress)
    else:
        result = _create(client, wanted, progress)
    created = result.action == "created"
    converged = converge(
        [name],
        lambda: find_campaigns_by_name(client, [name]),
        delete_each(client.delete_campaign),
        what="campaign",
        active_first=True,
        first=None if created else (index, started),
        keep=lambda extras: _holding_line_items(client, extras),
        progress=progress,
    )
    survivor = converged.survivors.get(name)
    if survivor is None:
        raise ReconcileError(
            f"Campaign {name!r} was deleted by someone else while this task ran. "
            "Re-run the task to create it again."
        )
    if str(survivor["id"]) != result.id:  # another writer's campaign won a race: checked against this spec
        progress(f"Campaign {survivor['id']} ({name!r}) is the one kept for this name; using it")
        result = _reuse(client, dict(survivor), wanted, if_exists, progress)
    asked = wanted.get("entity_status", ACTIVE)  # the API's default
    if created and asked == ACTIVE and survivor.get("entity_status") != ACTIVE:
        progress(f"Activating campaign {survivor['id']} ({name!r}), the one kept for this name")
        client.update_campaign(str(survivor["id"]), entity_status=ACTIVE)
    return result


def _create(client: AdsApiClient, wanted: Mapping[str, Any], progress: Progress) -> CampaignResult:
    """POST the campaign (``PAUSED`` when asked ``ACTIVE``: only the survivor is activated)."""
    name = str(wanted["name"])
    fi = resolve_funding_instrument(client, wanted.get("funding_instrument_id"), progress=progress)
    params = {**wanted, "funding_instrument_id": entity_field(fi, "id", "funding instrument")}
    if params.get("entity_status", ACTIVE) == ACTIVE:  # the API's default status is ACTIVE
        params["entity_status"] = "PAUSED"
    progress(
        f"Creating campaign {name!r} under funding instrument {params['funding_instrument_id']} "
        f"({params['entity_status']})"
    )
    created: dict[str, Any] = {}

    def create(_: list[str]) -> dict[str, Any]:
        return client.create_campaign(**params)

    def look(todo: list[str], err: AmbiguousWriteError) -> list[str]:
        progress(f"Creating campaign {name!r} ended ambiguously ({err}); looking it up by name")
        again = find_campaigns_by_name(client, [name]).get(name, [])
        if again:
            created.update(pick_survivor(again))
            return []
        return todo

    def fail(err: AdsApiError, _todo: list[str]) -> BaseException:
        if isinstance(err, AmbiguousWriteError):
            return ReconcileError(
                f"Creating campaign {name!r} failed: {err}\nIt may or may not exist. "
                + rerun_advice(err, "it looks the campaign up by name and creates it only if it is missing.")
            )
        return err

    answer = write_missing([name], create, look, fail=fail)
    campaign = answer if answer is not None else created
    result = CampaignResult(
        entity_field(campaign, "id", "created campaign"),
        name,
        str(params["funding_instrument_id"]),
        "created",
    )
    progress(f"Campaign {result.id} ({name!r}) created")
    return result


def _holding_line_items(client: AdsApiClient, extras: Sequence[Mapping[str, Any]]) -> list[str]:
    """The extras that hold line items: never deleted by convergence (someone built on them)."""
    ids = {str(c["id"]) for c in extras}
    holding = sorted({campaign for campaign, _name in find_line_items_by_name(client, ids)})
    for campaign_id in holding:
        log.warning(
            "Campaign %s shares its name with another and holds line items; convergence never deletes it: "
            "rename or delete it yourself if it is not wanted",
            campaign_id,
        )
    return holding


def _reuse(
    client: AdsApiClient,
    current: dict[str, Any],
    wanted: Mapping[str, Any],
    if_exists: str,
    progress: Progress,
) -> CampaignResult:
    """Reuse an existing campaign of the requested name, update it, or fail with the diff."""
    campaign_id, name = str(current["id"]), str(current.get("name"))
    fi = str(current.get("funding_instrument_id"))
    diff = diff_campaign(wanted, current)
    if not diff:
        progress(f"Campaign {campaign_id} ({name!r}) exists with the requested settings: reusing it")
        return CampaignResult(campaign_id, name, fi, "reused")
    immutable = bool(set(diff) & set(CAMPAIGN_CREATE_ONLY_FIELDS))
    if if_exists != "update" or immutable:
        raise CampaignSettingsMismatchError(name, campaign_id, diff, immutable=immutable)
    changes = {k: want for k, (_, want) in diff.items()}
    progress(f"Updating campaign {campaign_id} ({name!r}): " + _changes(diff))
    client.update_campaign(campaign_id, **changes)
    return CampaignResult(campaign_id, name, fi, "updated")


def _changes(diff: Mapping[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{k} {have!r} -> {want!r}" for k, (have, want) in sorted(diff.items()))


def check_update(changes: Mapping[str, Any], api_version: str = vocab.DEFAULT_API_VERSION) -> dict[str, Any]:
    """Validate campaign changes before any HTTP call; a draft status gets the Ads UI hint.

    :param changes: the settings to apply (``None`` values are ignored).
    :param api_version: the API version the parameters are for.
    """
    operation = "campaigns.update"
    if changes.get("entity_status") == "DRAFT":
        raise AdsApiValidationError(
            "entity_status",
            "a campaign cannot be made a draft through the API",
            allowed=vocab.UPDATABLE_ENTITY_STATUSES,
            operation=operation,
            hint=DRAFT_HINT,
        )
    wanted = _canonical(changes, operation, api_version)
    if not wanted:
        raise AdsApiValidationError(
            "changes", "nothing to update", allowed=CAMPAIGN_UPDATE_FIELDS, operation=operation
        )
    return wanted


def update_campaign(
    client: AdsApiClient, campaign_id: str, changes: Mapping[str, Any], *, progress: Progress = noop
) -> tuple[dict[str, Any], bool]:
    """Apply settings to a campaign unless it already has them (a re-run sends no PUT).

    Activating or pausing a draft fails before the PUT with a ``DraftEntityError`` and the Ads UI hint.

    :param client: the API client.
    :param campaign_id: the campaign.
    :param changes: the settings to apply (``None`` values are ignored).
    :param progress: receives progress lines.
    :return: ``(campaign, whether a PUT was sent)``.
    """
    wanted = check_update(changes, _api_version(client))
    current = client.get_campaign(campaign_id)
    diff = diff_campaign(wanted, current, exclude=())
    if "entity_status" in diff and current.get("entity_status") == "DRAFT":
        raise DraftEntityError(
            f"Campaign {campaign_id} ({current.get('name')!r}) is a draft: {vocab.DRAFT_ERROR_MARKER} "
            "via the Ads UI (nothing was sent)",
            parameter="entity_status",
            hint=DRAFT_HINT,
        )
    if not diff:
        progress(f"Campaign {campaign_id} already has the requested settings: nothing to update")
        return current, False
    progress(f"Updating campaign {campaign_id}: " + _changes(diff))
    return client.update_campaign(campaign_id, **{k: wanted[k] for k in diff}), True


def delete_campaign(client: AdsApiClient, campaign_id: str, *, progress: Progress = noop) -> str:
    """Delete a campaign; deleting one that is already deleted (or absent) succeeds.

    :param client: the API client.
    :param campaign_id: the campaign.
    :param progress: receives progress lines.
    :return: ``deleted``, ``already deleted`` or ``not found``.
    """
    return delete_entity(
        "Campaign",
        campaign_id,
        lambda: client.delete_campaign(campaign_id),
        lambda: client.get_campaign(campaign_id, with_deleted=True),
        progress=progress,
    )
