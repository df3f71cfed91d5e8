"""The contenders of the benchmark: the same workloads written three ways.

- :mod:`.floor`: plain ``requests`` + ``OAuth1Session``, the minimum number of calls the API allows;
- :mod:`.sdk`: the official ``twitter-ads`` SDK, used the way a careful user would use it;
- :mod:`.provider`: this provider (the hook's client, and the operators where the workload is theirs).

Each module exposes ``WORKLOADS: dict[str, Callable[[Conn, dict], dict]]`` and may expose
``warm_up(conn)``, run once before the timed section to load what a long-running worker has loaded already
(lazy imports behind the first connection lookup), never to make API calls. A workload function gets the
connection details and the job (plain JSON, built by :mod:`.workloads`), does the work and returns a small
summary (IDs created, entities listed, errors seen) that :mod:`.workloads` checks against the emulator's
state. Workload functions never time themselves: the caller does (see :mod:`.child`).
"""

from __future__ import annotations

from types import ModuleType

CONTENDERS: tuple[str, ...] = ("floor", "sdk", "provider", "provider_ops")


def load(contender: str) -> ModuleType:
    """The module of one contender (imported lazily: each pulls in its own dependencies).

    :param contender: one of :data:`CONTENDERS`
    """
    if contender == "floor":
        from benchmarks.contenders import floor as module
    elif contender == "sdk":
        from benchmarks.contenders import sdk as module
    elif contender == "provider":
        from benchmarks.contenders import provider as module
    elif contender == "provider_ops":
        from benchmarks.contenders import provider_ops as module
    else:
        raise ValueError(f"contender={contender!r}: allowed values are {', '.join(CONTENDERS)}")
    return module
