"""Converging after writing: several writers on one natural key agree on one survivor and return it.

The API has no idempotency key and Airflow workers share no lock, so two tasks that reconcile the same key
at the same moment (overlapping runs, a zombie beside its retry, colliding mapped tasks) can both find it
missing and both write. "Look before writing" cannot prevent that; what this module does after writing
makes it harmless: every writer reads the key back, and when several live entities hold it, all writers
pick the same survivor by one rule, remove the extras they may safely remove, and return the survivor.

**The rule.** Rank = (for line items: ACTIVE before anything else), then ``created_at``, then ID; the
survivor is the smallest. Every writer computes it from the same data, so they agree on what they see.

**A returned survivor must never lose later.** "Earliest created" is stable in principle (an entity
created later ranks after), but ``created_at`` has one-second precision: with ties broken by ID, a writer
could return X, then Y appear, stamped in the same second with a smaller ID, and the next writer would pick
Y and delete X, which the first writer had returned. Waiting for the set to look stable across two reads
does not fix it (a zombie can write at any time), and "delete only what I created" leaves the two writers
returning different IDs. What is chosen: a survivor is returned only from a read taken when the API's clock
was already past the end of the survivor's ``created_at`` second (plus :data:`SETTLE_LAG` for an entity
stamped but not yet visible). Anything not visible in that read is stamped in a later second, so ranks
after the survivor, whenever it appears. The API's clock is bounded from below without trusting ours: an
entity stamped T in a read means the API's clock had passed T, and it has advanced since by at least our
monotonic clock's elapsed time. Our wall clock is used only for entities far in the past (more than
:data:`WALL_TOLERANCE` seconds), so a re-run that reuses an old entity costs no wait and no extra read. A
fresh write costs one wait of about 1-2 s and one more read.

**What is never removed.** The survivor (no writer can see an entity ranked before the global smallest;
so none deletes it); an ACTIVE line item or campaign (spending: convergence only warns, and ACTIVE ranks
first, so a launch activated by anyone stays the survivor); whatever the caller's ``keep`` names (a
campaign that holds line items). Line items and campaigns are created PAUSED and only the survivor is
activated, so two racers never create two spending entities. Extras of a promoted Tweet or a criterion
are the same Tweet or criterion on the same line item: removing one changes nothing that is delivered.

**Ordering.** An extra can be removed at any read: ranks never change (``created_at`` and IDs are fixed),
a new entity can only rank after a settled survivor, so a loser stays a loser; it was never returned by a
converging writer. Two writers removing the same extra is harmless (a removal that fails is read again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from airflow_provider_twads.api.errors import AdsApiError, NotFoundError
from airflow_provider_twads.reconcile._common import Progress, noop
from airflow_provider_twads.reconcile.errors import ReconcileError

__all__ = [
    "SETTLE_LAG",
    "WALL_TOLERANCE",
    "Converged",
    "ServerClock",
    "converge",
    "created_epoch",
    "delete_each",
    "rank",
]

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

#: Seconds between the API stamping ``created_at`` and the entity showing in lists (assumed at most).
SETTLE_LAG = 0.5
#: Our wall clock may be this far ahead of the API's: used only to skip waiting for old entities.
WALL_TOLERANCE = 10.0
ACTIVE = "ACTIVE"
#: Reads at most, before giving up on a key that keeps changing.
MAX_ROUNDS = 8


def created_epoch(entity: Mapping[str, Any]) -> float | None:
    """``created_at`` (or ``None`` when absent or unreadable) as epoch seconds."""
    raw = entity.get("created_at")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def rank(entity: Mapping[str, Any], *, active_first: bool = False) -> tuple[int, float, str]:
    """The convergence order: the smallest is the survivor (see the module docstring)."""
    created = created_epoch(entity)
    active = active_first and entity.get("entity_status") == ACTIVE
    return (0 if active else 1, created if created is not None else float("inf"), str(entity.get("id")))


@dataclass
class ServerClock:
    """A lower bound on the API's clock, learnt from the timestamps it returned, on our monotonic clock.

    :param monotonic: our monotonic clock.
    :param wall: our wall clock (trusted only to :data:`WALL_TOLERANCE`).
    """

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    _anchor: tuple[float, float] | None = None  # (API time at least, our monotonic time then)

    def observe(self, entities: Iterable[Mapping[str, Any]], at: float) -> float:
        """Learn from entities read by a request that ended at monotonic ``at``; return the read's bound."""
        stamps = [
            t for e in entities for t in (created_epoch(e), _epoch(e.get("updated_at"))) if t is not None
        ]
        seen = max(stamps, default=float("-inf"))
        if self._anchor is None or seen > self.at_least(at):
            self._anchor = (seen, at)
        return seen

    def at_least(self, at: float) -> float:
        """The API's clock at our monotonic ``at`` is at least this."""
        bound = self.wall() - (self.monotonic() - at) - WALL_TOLERANCE
        if self._anchor is not None:
            bound = max(bound, self._anchor[0] + (at - self._anchor[1]))
        return bound


def _epoch(raw: Any) -> float | None:
    return created_epoch({"created_at": raw})


@dataclass
class Converged(Generic[K]):
    """The outcome: one survivor per key that has any, the keys with none, and what was removed."""

    survivors: dict[K, dict[str, Any]] = field(default_factory=dict)
    missing: list[K] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    groups: dict[K, list[dict[str, Any]]] = field(default_factory=dict)
    #: Every key the last read returned (the asked ones and others), e.g. to verify a whole set.
    seen: list[K] = field(default_factory=list)


def converge(
    keys: Sequence[K],
    read: Callable[[], Mapping[K, Sequence[dict[str, Any]]]],
    remove: Callable[[list[dict[str, Any]]], Sequence[str]],
    *,
    what: str,
    active_first: bool = False,
    first: tuple[Mapping[K, Sequence[dict[str, Any]]], float] | None = None,
    quiet_since: float | None = None,
    keep: Callable[[list[dict[str, Any]]], Iterable[str]] | None = None,
    clock: ServerClock | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress = noop,
) -> Converged[K]:
    """Read ``keys`` back until every survivor is settled; remove the extras on the way.

    :param keys: the natural keys to converge.
    :param read: the natural-key read: ``{key: live entities}`` (other keys may be present).
    :param remove: removes extras (never ACTIVE ones when ``active_first``); returns the IDs it removed.
        An error it raises is logged and the next read decides.
    :param what: what the entities are, for messages (``line item``).
    :param active_first: rank ACTIVE entities first and never remove them (line items).
    :param first: a read already made (its result and the monotonic time it started), used as round one.
    :param quiet_since: monotonic time of this writer's last write: the final read starts at least
        ``1 + SETTLE_LAG`` seconds after it, so that writes racing with ours are seen.
    :param keep: given the extras, the IDs of those never to remove (it says why); they stay, like ACTIVE
        ones, and do not hold convergence back.
    :param clock: the API clock's lower bound (a new one by default).
    :param sleep: how to wait.
    :param progress: receives progress lines.
    :return: the survivors (and the keys that have no live entity).
    """
    clock = clock or ServerClock()
    wanted = list(dict.fromkeys(keys))
    out: Converged[K] = Converged()
    for round_ in range(1, MAX_ROUNDS + 1):
        if first is not None:
            groups, started = first
            first = None
        else:
            started = clock.monotonic()
            groups = read()
        seen = clock.observe((e for es in groups.values() for e in es), clock.monotonic())
        snapshot = max(seen, clock.at_least(started))
        out.groups = {
            k: sorted(groups.get(k, ()), key=lambda e: rank(e, active_first=active_first)) for k in wanted
        }
        out.seen = [k for k, es in groups.items() if es]
        out.survivors = {k: es[0] for k, es in out.groups.items() if es}
        out.missing = [k for k in wanted if k not in out.survivors]
        extras = [e for es in out.groups.values() for e in es[1:]]
        if active_first:
            _warn_active(what, [e for e in extras if e.get("entity_status") == ACTIVE])
            extras = [e for e in extras if e.get("entity_status") != ACTIVE]
        if keep is not None and extras:
            kept = {str(i) for i in keep(extras)}
            extras = [e for e in extras if str(e.get("id")) not in kept]
        if extras:
            progress(
                f"{len(extras)} extra {what}(s) share a key with another (several writers at once); removing"
            )
            try:
                out.removed.extend(remove(extras))
            except AdsApiError as err:  # another writer may have removed some: read again
                log.info("Removing extra %ss failed (%s); reading again", what, err)
            continue
        # A survivor without created_at (never from the API) cannot be waited for: taken as settled.
        stamps = [created_epoch(s) for s in out.survivors.values()]
        need = max((t + 1 + SETTLE_LAG for t in stamps if t is not None), default=float("-inf"))
        wait = need - snapshot
        if quiet_since is not None:
            wait = max(wait, quiet_since + 1 + SETTLE_LAG - started)
        if wait <= 0:
            return out
        quiet_since = None  # the next read starts after the wait
        progress(f"Waiting {wait:.1f} s for the {what}s written at the same time to show (round {round_})")
        sleep(wait)
    raise ReconcileError(
        f"The {what}s of these keys kept changing over {MAX_ROUNDS} reads: "
        f"{', '.join(map(str, wanted[:5]))}. Several writers are writing them at once; re-run the task."
    )


def _warn_active(what: str, active: Sequence[Mapping[str, Any]]) -> None:
    for e in active:
        log.warning(
            "%s %s is ACTIVE and shares its key with another; convergence never removes a spending %s: "
            "pause or delete it yourself if it is not wanted",
            what.capitalize(),
            e.get("id"),
            what,
        )


def delete_each(delete: Callable[[str], Any]) -> Callable[[list[dict[str, Any]]], list[str]]:
    """A ``remove`` for :func:`converge` that deletes extras one by one; one already gone is fine."""

    def remove(extras: list[dict[str, Any]]) -> list[str]:
        done = []
        for e in extras:
            try:
                delete(str(e["id"]))
            except NotFoundError:  # another writer removed it first
                continue
            done.append(str(e["id"]))
        return done

    return remove
