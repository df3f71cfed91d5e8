"""Several writers at once on colliding keys (issue 11): the short version of ``make race``.

Three processes per scenario (campaigns, line items, promoted Tweets, targeting) start together and
reconcile the same natural keys, with latency on the reads to widen the window between "look" and "write".
Outcomes are checked in the emulator's state.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import race


@pytest.mark.parametrize("scenario", race.SCENARIOS)
def test_writers_at_once_converge(emu: Any, scenario: str) -> None:
    (result,) = race.run(emu, writers=3, trials=1, scenarios=[scenario], size=8)
    assert result.live_duplicates == 0
    assert result.extra_active == 0
    assert result.divergent == 0
    if scenario == "targeting_replace_diff":
        # Different sets: each task either saw its own set as the final one, or failed naming the change.
        assert result.stale_successes == 0
        assert result.failed == result.conflicts, result.errors
    else:
        assert result.failed == 0, result.errors
