"""The README's quick start is a real DAG file that parses and runs, and every relative link in the docs
points to a file (and a heading) that exists."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pendulum
import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
QUICKSTART = REPO / "dags_examples" / "twads_quickstart.py"
# The pages a reader reaches from the README (the emulator's README and the benchmarks' too).
PAGES = [README, *sorted((REPO / "docs").glob("*.md")), REPO / "benchmarks/README.md"]
PAGES.append(REPO / "twads-emulator/README.md")

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def quickstart_block() -> str:
    """The first ```python block under the README's "Quick start" heading."""
    text = README.read_text()
    section = re.search(r"^## Quick start\b(.*?)(?=^## )", text, re.M | re.S)
    assert section, "README.md has a '## Quick start' section"
    block = re.search(r"^```python\n(.*?)^```$", section.group(1), re.M | re.S)
    assert block, "the quick start section has a python code block"
    return block.group(1)


def test_readme_quick_start_is_the_example_file() -> None:
    assert quickstart_block() == QUICKSTART.read_text()


def test_quick_start_parses() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(QUICKSTART))
    assert bag.import_errors == {}
    dag = bag.dags["twads_quickstart"]
    assert {t.task_id for t in dag.tasks} == {"create", "targeting", "promote", "approved", "activate"}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but _ and - dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a Markdown page (a repeated heading gets -1, -2, ... as on GitHub)."""
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", page.read_text()), re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(page: Path) -> list[str]:
    """Link targets outside code blocks and inline code."""
    return LINK.findall(INLINE_CODE.sub("", FENCE.sub("", page.read_text())))


def missing(page: Path, target: str) -> str | None:
    """Why ``target`` (a link on ``page``) does not resolve, or None."""
    path, _, anchor = target.partition("#")
    dest = (page.parent / path).resolve() if path else page
    if not dest.exists():
        return f"{target}: no such file"
    if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
        shown = dest.relative_to(REPO) if dest.is_relative_to(REPO) else dest.name
        return f"{target}: no heading #{anchor} in {shown}"
    return None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page: Path) -> None:
    targets = [t for t in links(page) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]
    assert [why for t in targets if (why := missing(page, t))] == []


def test_link_checker_sees_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n## The `twitter_ads` **connection**\n[ok](#the-twitter_ads-connection) [bad](nowhere.md)\n"
        "[gone](#nope) `[in inline code](ignored.md)`\n"
        "```\n[in code](ignored.md)\n```\n"
    )
    problems = [why for t in links(page) if (why := missing(page, t))]
    assert problems == ["nowhere.md: no such file", "#nope: no heading #nope in page.md"]


# -- the quick start, run ------------------------------------------------------------------------------


@pytest.fixture
def quickstart_dag(monkeypatch: pytest.MonkeyPatch, airflow_db: Path) -> Any:
    """The quick start DAG, with dags_examples/ as the DAG bundle ``dag.test()`` serialises through."""
    from airflow.dag_processing.dagbag import DagBag

    bundles = [
        {
            "name": "dags-folder",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(QUICKSTART.parent), "refresh_interval": 0},
        }
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    dag = DagBag(str(QUICKSTART.parent)).get_dag("twads_quickstart")
    assert dag is not None
    return dag


def launched(emu: Any, name: str) -> list[dict[str, Any]]:
    """The live line items called ``name``, each with its live criteria and promoted Tweets."""
    state = emu.admin.state()
    items = [li for li in state["line_items"] if li["name"] == name and not li["deleted"]]
    for li in items:
        for kind in ("targeting_criteria", "promoted_tweets"):
            li[kind] = [e for e in state[kind] if e["line_item_id"] == li["id"] and not e["deleted"]]
    return items


@pytest.mark.airflow_db
def test_quick_start_runs_manually_without_a_logical_date_and_converges(
    emu: Any, quickstart_dag: Any
) -> None:
    # As `airflow dags trigger` and the REST API start a run in Airflow 3: no logical date.
    run_after = pendulum.now("UTC")
    day = run_after.date()
    first = quickstart_dag.test(logical_date=None, run_after=run_after)
    assert first.state == "success"

    (li,) = launched(emu, f"quickstart {day.isoformat()}")
    assert li["entity_status"] == "ACTIVE"
    assert li["start_time"] == f"{day.add(days=1).isoformat()}T00:00:00Z"
    assert li["end_time"] == f"{day.add(days=8).isoformat()}T00:00:00Z"
    assert [c["targeting_value"] for c in li["targeting_criteria"]] == ["96683cc9126741d1"]
    assert [p["tweet_id"] for p in li["promoted_tweets"]] == ["1577749323371274241"]

    # A second manual run the same day is the same launch: nothing new, nothing twice.
    second = quickstart_dag.test(logical_date=None, run_after=run_after)
    assert second.state == "success" and second.run_id != first.run_id
    (again,) = launched(emu, f"quickstart {day.isoformat()}")
    assert again["id"] == li["id"]
    assert len(again["targeting_criteria"]) == 1 and len(again["promoted_tweets"]) == 1


@pytest.mark.airflow_db
def test_quick_start_launches_for_the_day_a_run_was_due(emu: Any, quickstart_dag: Any) -> None:
    # A scheduled run on a timetable with data intervals: its logical date is a week before it is due.
    run = quickstart_dag.test(
        logical_date=pendulum.datetime(2026, 2, 22, tz="UTC"),
        run_after=pendulum.datetime(2026, 3, 1, tz="UTC"),
    )
    assert run.state == "success"
    (li,) = launched(emu, "quickstart 2026-03-01")
    assert (li["start_time"], li["end_time"]) == ("2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z")
    assert li["entity_status"] == "ACTIVE"
