"""Hostile input, property-based: bad values get the typed validation error naming the parameter, before
any HTTP call; nothing crashes with an unexpected exception type.

Values come from hypothesis: unicode and control characters, huge and negative numbers, NaN, wrong types,
empty and oversized lists. The client's statistics and the emulator's request log prove that no request
was sent for an invalid value. Where a value passes the client's validation, the emulator (which enforces
the spec) must accept it too: a 400 from the API would mean the client let an invalid value through.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import (
    AdsApiError,
    AdsApiValidationError,
    BadRequestError,
    NotFoundError,
)
from twads_emulator import SEED

FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the suite is reproducible; run with --hypothesis-seed to explore further
)

# ---------------------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------------------
TRICKY_STRINGS = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\n",
        "ACTIVE\n",
        "\u202eENGAGEMENTS",  # right-to-left override
        "\uff25\uff2e\uff27\uff21\uff27\uff25\uff2d\uff25\uff2e\uff34\uff33",  # full-width ENGAGEMENTS
        "engagements; DROP TABLE line_items",
        "2024-13-45T99:99:99Z",
        "9" * 40,
        "-1",
        "1e9",
        "NaN",
        "../../accounts",
        "a/b",
        "%2F",
        "\U0001d7d9\U0001d7da\U0001d7db",  # double-struck digits
        "\u00b9\u00b2\u00b3",  # superscript digits: str.isdigit() is true, int() fails
        "\u0661\u0662\u0663",  # Arabic-Indic digits: int() reads 123
        "x" * 5000,
    ]
)
# Digits other than 0-9: decimal digits of other scripts (which int() reads) and superscripts (which it
# does not). The API takes ASCII digits only; the client must refuse, never send another number.
NON_ASCII_DIGITS = st.text(
    alphabet=st.characters(whitelist_categories=("Nd", "No"), blacklist_characters="0123456789"),
    min_size=1,
    max_size=20,
)
OVERSIZE_VALUE = st.integers(min_value=vocab.TARGETING_VALUE_MAX_LENGTH + 1, max_value=6000).map(
    lambda n: "k" * n
)
# A flight whose end is before its start: (start, end) as ISO strings, both after 2010.
REVERSED_TIMES = st.tuples(
    st.datetimes(min_value=datetime(2011, 1, 1), max_value=datetime(2099, 1, 1)),
    st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3000)),
).map(lambda t: (t[0].isoformat(), (t[0] - t[1]).isoformat()))
ANYTHING = st.one_of(
    st.text(max_size=40),
    TRICKY_STRINGS,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.binary(max_size=8),
    st.lists(st.one_of(st.text(max_size=6), st.integers()), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.tuples(st.integers()),
)


def _not_in(allowed: tuple[Any, ...]) -> Callable[[Any], bool]:
    names = {str(a).upper() for a in allowed}
    return lambda v: not (isinstance(v, str) and v.strip().upper() in names)


INVALID_OBJECTIVE = ANYTHING.filter(_not_in(vocab.ALL_OBJECTIVES + tuple(vocab.LEGACY_OBJECTIVES)))
INVALID_STATUS = ANYTHING.filter(_not_in(vocab.ENTITY_STATUSES))
NON_NUMERIC = st.one_of(
    st.text(min_size=1, max_size=12).filter(lambda s: not s.strip().isdigit()),
    st.floats(allow_nan=True),
    st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2),
    st.just(True),
)
NEGATIVE = st.integers(max_value=-1)


def _requests(emu: Any) -> int:
    return sum(1 for r in emu.admin.requests() if not r["path"].startswith("/_emulator"))


def _assert_names(err: AdsApiValidationError, parameter: str) -> None:
    assert err.parameter and parameter in err.parameter, (err.parameter, str(err))
    assert parameter in str(err)


# ---------------------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------------------
BASE_LINE_ITEM: dict[str, Any] = {
    "campaign_id": SEED["campaign_id"],
    "objective": "ENGAGEMENTS",
    "product_type": "PROMOTED_TWEETS",
    "placements": ["ALL_ON_TWITTER"],
    "bid_strategy": "AUTO",
    "start_time": "2031-01-01T00:00:00Z",
    "name": "hostile input",
}
FUZZED_FIELDS = (
    "objective",
    "product_type",
    "placements",
    "bid_amount_local_micro",
    "bid_strategy",
    "start_time",
    "end_time",
    "name",
    "entity_status",
    "daily_budget_amount_local_micro",
    "total_budget_amount_local_micro",
    "frequency_cap",
    "duration_in_days",
    "goal",
    "pay_by",
    "standard_delivery",
    "audience_expansion",
    "advertiser_domain",
    "categories",
    "campaign_id",
)


def test_baseline_line_item_is_valid(client: Any) -> None:
    """The fuzzing below starts from a valid line item: the emulator accepts it as is."""
    created = client.create_line_item(**BASE_LINE_ITEM)
    assert created["name"] == BASE_LINE_ITEM["name"]


@FAST
@given(field=st.sampled_from(FUZZED_FIELDS), value=ANYTHING)
def test_create_line_item_rejects_bad_values_before_http_or_the_api_accepts_them(
    client: Any, field: str, value: Any
) -> None:
    calls = client.stats.calls
    try:
        client.create_line_item(**{**BASE_LINE_ITEM, field: value})
    except AdsApiValidationError as err:
        assert client.stats.calls == calls, "no HTTP call for an invalid value"
        assert err.parameter, str(err)
        return
    except NotFoundError:
        assert field == "campaign_id"  # an ID that does not exist is the API's to say
        return
    except BadRequestError as err:
        pytest.fail(f"the client sent {field}={value!r}, which the API rejects: {err}")
    # Accepted by the client: the API created it (the emulator enforces the spec).


@FAST
@given(
    field=st.sampled_from(["objective", "entity_status", "bid_amount_local_micro", "start_time"]),
    data=st.data(),
)
def test_create_line_item_names_the_bad_parameter(client: Any, emu: Any, field: str, data: Any) -> None:
    strategy = {
        "objective": INVALID_OBJECTIVE,
        "entity_status": INVALID_STATUS,
        "bid_amount_local_micro": st.one_of(NON_NUMERIC, NEGATIVE),
        "start_time": st.one_of(
            st.text(alphabet=string.ascii_letters + "-:", min_size=1, max_size=20), st.integers(), st.floats()
        ),
    }[field]
    value = data.draw(strategy)
    with pytest.raises(AdsApiValidationError) as info:
        client.create_line_item(**{**BASE_LINE_ITEM, "bid_strategy": "MAX", field: value})
    _assert_names(info.value, field)
    assert client.stats.calls == 0
    assert _requests(emu) == 0


@FAST
@given(
    resource=st.one_of(st.sampled_from(vocab.RESOURCES), st.text(max_size=12)),
    count=st.one_of(st.integers(min_value=-(2**40), max_value=2**40), NON_NUMERIC, st.none()),
)
def test_list_counts_and_resources(client: Any, resource: str, count: Any) -> None:
    calls = client.stats.calls
    filters = {"line_item_ids": ["abc"]} if resource == "targeting_criteria" else {}
    try:
        cursor = client.list(resource, count=count, **filters)
    except AdsApiValidationError as err:
        assert client.stats.calls == calls
        assert err.parameter in ("resource", "count"), str(err)
        bad_count = not (isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= 1000)
        assert resource not in vocab.RESOURCES or (count is not None and bad_count)
        return
    assert resource in vocab.RESOURCES
    assert count is None or 1 <= int(count) <= 1000
    cursor.first_page()  # a valid listing works


@FAST
@given(
    tweet_ids=st.one_of(
        st.lists(st.one_of(NON_NUMERIC, NEGATIVE, TRICKY_STRINGS), min_size=1, max_size=5),
        st.just([]),
        st.lists(st.integers(min_value=1, max_value=10**18), min_size=51, max_size=60).map(
            lambda ids: ",".join(map(str, ids)) + ",x"
        ),
    )
)
def test_promoted_tweet_ids_are_validated_before_http(client: Any, tweet_ids: Any) -> None:
    calls = client.stats.calls
    with pytest.raises(AdsApiValidationError) as info:
        client.create_promoted_tweets(SEED["line_item_id"], tweet_ids)
    _assert_names(info.value, "tweet_ids")
    assert client.stats.calls == calls


CRITERION = st.fixed_dictionaries(
    {
        "line_item_id": st.just(SEED["line_item_id"]),
        "targeting_type": st.one_of(st.sampled_from(vocab.TARGETING_TYPES), ANYTHING),
        "targeting_value": ANYTHING,
        "operator_type": st.one_of(st.sampled_from(vocab.OPERATOR_TYPES), ANYTHING),
    }
)


@FAST
@given(criteria=st.lists(CRITERION, min_size=1, max_size=3))
def test_targeting_batches_reject_or_apply_whole(
    client: Any, emu: Any, criteria: list[dict[str, Any]]
) -> None:
    before = emu.admin.state("targeting_criteria")["targeting_criteria"]
    ops = [{"operation_type": "Create", "params": c} for c in criteria]
    calls = client.stats.calls
    try:
        client.batch_targeting_criteria(ops)
    except AdsApiValidationError as err:
        assert client.stats.calls == calls
        assert err.parameter, str(err)
        assert emu.admin.state("targeting_criteria")["targeting_criteria"] == before
        return
    except AdsApiError as err:
        # Accepted by the client's checks, refused by the API: the batch is atomic, nothing written.
        assert not isinstance(err, BadRequestError) or err.status == 400
        assert emu.admin.state("targeting_criteria")["targeting_criteria"] == before
        pytest.fail(f"the client sent a batch the API rejects: {err}")


@FAST
@given(
    digits=NON_ASCII_DIGITS, field=st.sampled_from(["tweet_ids", "bid_amount_local_micro", "frequency_cap"])
)
def test_digits_other_than_0_to_9_are_refused_before_http(client: Any, digits: str, field: str) -> None:
    with pytest.raises(AdsApiValidationError) as info:
        if field == "tweet_ids":
            client.create_promoted_tweets(SEED["line_item_id"], ["20", digits])
        else:
            client.create_line_item(**{**BASE_LINE_ITEM, "bid_strategy": "MAX", field: digits})
    _assert_names(info.value, field)
    assert client.stats.calls == 0


@FAST
@given(tweet_id=st.integers(min_value=vocab.MAX_TWEET_ID + 1, max_value=10**60))
def test_tweet_ids_beyond_64_bits_are_refused_before_http(client: Any, tweet_id: int) -> None:
    for given_as in (tweet_id, str(tweet_id)):
        with pytest.raises(AdsApiValidationError) as info:
            client.create_promoted_tweets(SEED["line_item_id"], [given_as])
        _assert_names(info.value, "tweet_ids")
    assert client.stats.calls == 0


@FAST
@given(value=OVERSIZE_VALUE, targeting_type=st.sampled_from(vocab.TARGETING_TYPES))
def test_oversize_targeting_values_are_refused_before_http(
    client: Any, value: str, targeting_type: str
) -> None:
    op = {
        "operation_type": "Create",
        "params": {
            "line_item_id": SEED["line_item_id"],
            "targeting_type": targeting_type,
            "targeting_value": value,
        },
    }
    with pytest.raises(AdsApiValidationError) as info:
        client.batch_targeting_criteria([op])
    _assert_names(info.value, "targeting_value")
    assert str(vocab.TARGETING_VALUE_MAX_LENGTH) in str(info.value)
    assert client.stats.calls == 0


@FAST
@given(times=REVERSED_TIMES, operation=st.sampled_from(["create", "update"]))
def test_a_flight_ending_before_it_starts_is_refused_before_http(
    client: Any, times: tuple[str, str], operation: str
) -> None:
    start, end = times
    with pytest.raises(AdsApiValidationError) as info:
        if operation == "create":
            client.create_line_item(**{**BASE_LINE_ITEM, "start_time": start, "end_time": end})
        else:
            client.update_line_item(SEED["line_item_id"], start_time=start, end_time=end)
    _assert_names(info.value, "start_time")
    assert "end_time" in str(info.value)
    assert client.stats.calls == 0


# ---------------------------------------------------------------------------------------------------------
# The hook: connection fields
# ---------------------------------------------------------------------------------------------------------
SECRET = st.text(alphabet=string.ascii_letters + string.digits, min_size=12, max_size=30)


@FAST
@given(
    login=st.one_of(st.none(), st.text(max_size=20)),
    password=st.one_of(st.none(), SECRET),
    token=st.one_of(st.none(), SECRET),
    token_secret=st.one_of(st.none(), SECRET),
    extra_noise=st.dictionaries(
        st.sampled_from(["host", "api_version", "timeout", "account_id"]),
        st.one_of(ANYTHING.filter(lambda v: not isinstance(v, bytes)), st.none()),
        max_size=3,
    ),
    raw_extra=st.one_of(st.none(), st.sampled_from(["{not json", "[1, 2]", '"text"', "null", "{}"])),
)
def test_connection_fields_are_checked_and_never_echo_secrets(
    login: Any, password: Any, token: Any, token_secret: Any, extra_noise: dict[str, Any], raw_extra: Any
) -> None:
    import json

    from airflow.sdk.definitions.connection import Connection

    from airflow_provider_twads.hooks.ads_api import settings_from_connection

    extra: dict[str, Any] = dict(extra_noise)
    if token is not None:
        extra["access_token"] = token
    if token_secret is not None:
        extra["access_token_secret"] = token_secret
    conn = Connection(
        conn_id="hostile",
        conn_type="twitter_ads",
        login=login,
        password=password,
        extra=raw_extra if raw_extra is not None else json.dumps(extra, default=str),
    )
    secrets = [s for s in (password, token, token_secret) if s]
    try:
        settings = settings_from_connection(conn, mask=False)
    except AdsApiValidationError as err:
        assert err.parameter in (
            "extra",
            "login",
            "password",
            "access_token",
            "access_token_secret",
            "host",
            "api_version",
            "timeout",
            "account_id",
        ), str(err)
        for text in (str(err), repr(err), err.hint or ""):
            for secret in secrets:
                assert secret not in text
        return
    for secret in secrets:
        assert secret not in repr(settings)
    assert settings.timeout > 0


# ---------------------------------------------------------------------------------------------------------
# Operators and the sensor: executed as a worker would, with a task context
# ---------------------------------------------------------------------------------------------------------
class _TI:
    dag_id, task_id, run_id, map_index, try_number = "hostile", "t", "manual__hostile", -1, 1

    def xcom_push(self, key: str, value: Any) -> None:
        pass


def _run(op: Any) -> Any:
    ti = _TI()
    return op.execute({"ti": ti, "task_instance": ti, "run_id": ti.run_id, "task": op})


def _operator_cases() -> dict[str, tuple[Callable[[Any], Any], Any, str]]:
    from airflow_provider_twads.operators.line_items import CreateLineItemOperator, UpdateLineItemOperator
    from airflow_provider_twads.operators.promoted_tweets import PromoteTweetsOperator
    from airflow_provider_twads.operators.targeting import BatchTargetingOperator
    from airflow_provider_twads.sensors.cursor import AdsCursorSensor

    li = SEED["line_item_id"]

    def create(**kw: Any) -> Any:
        args = {k: v for k, v in BASE_LINE_ITEM.items() if k != "bid_strategy"}
        return CreateLineItemOperator(task_id="t", **{**args, "bid_strategy": "MAX", **kw})

    def sensor(**kw: Any) -> Any:
        args = {"resource": "line_items", "filters": {"line_item_ids": [li]}, "entity_status": "ACTIVE"}
        return AdsCursorSensor(
            task_id="t", deferrable=False, poke_interval=0.01, timeout=0.01, **{**args, **kw}
        )

    small_ints = st.one_of(st.integers(max_value=0), st.integers(min_value=100_000), NON_NUMERIC)
    return {
        "create.objective": (lambda v: create(objective=v), INVALID_OBJECTIVE, "objective"),
        "create.placements": (
            lambda v: create(placements=v),
            st.lists(st.text(max_size=8).filter(_not_in(vocab.PLACEMENTS)), min_size=1, max_size=3),
            "placements",
        ),
        "create.bid": (lambda v: create(bid_amount_local_micro=v), st.one_of(NON_NUMERIC, NEGATIVE), "bid"),
        "create.start_time": (
            lambda v: create(start_time=v),
            st.one_of(
                st.text(alphabet="abcxyz:-", min_size=1, max_size=12), st.floats(), st.lists(st.integers())
            ),
            "start_time",
        ),
        "create.if_exists": (
            lambda v: create(if_exists=v),
            ANYTHING.filter(_not_in(("reuse", "update"))),
            "if_exists",
        ),
        "create.line_items": (
            lambda v: create(line_items=v),
            st.one_of(st.just([]), st.text(max_size=5), st.lists(st.integers(), min_size=1, max_size=2)),
            "line_items",
        ),
        "update.entity_status": (
            lambda v: UpdateLineItemOperator(task_id="t", line_item_id=li, entity_status=v),
            INVALID_STATUS.filter(lambda v: not isinstance(v, str) or v.strip().upper() != "DRAFT"),
            "entity_status",
        ),
        "update.line_item_id": (
            lambda v: UpdateLineItemOperator(task_id="t", line_item_id=v, entity_status="PAUSED"),
            st.one_of(
                st.just(""), st.just([]), st.just(" , "), st.floats(), st.dictionaries(st.text(), st.text())
            ),
            "line_item_id",
        ),
        "targeting.mode": (
            lambda v: BatchTargetingOperator(task_id="t", line_item_ids=li, criteria=[], mode=v),
            ANYTHING.filter(_not_in(("add", "replace"))),
            "mode",
        ),
        "targeting.criteria": (
            lambda v: BatchTargetingOperator(task_id="t", line_item_ids=li, criteria=v),
            st.one_of(
                st.lists(
                    st.one_of(ANYTHING, st.fixed_dictionaries({"targeting_type": ANYTHING})), min_size=1
                ),
                st.text(max_size=5),
                st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
            ),
            "criteria",
        ),
        "targeting.chunk_size": (
            lambda v: BatchTargetingOperator(
                task_id="t",
                line_item_ids=li,
                criteria=[{"targeting_type": "LANGUAGE", "targeting_value": "en"}],
                chunk_size=v,
            ),
            small_ints.filter(lambda v: not (isinstance(v, int) and 1 <= v <= 500)),
            "chunk_size",
        ),
        "promote.tweet_ids": (
            lambda v: PromoteTweetsOperator(task_id="t", line_item_id=li, tweet_ids=v),
            st.lists(st.one_of(NON_NUMERIC, NEGATIVE, TRICKY_STRINGS), min_size=1, max_size=3),
            "tweet_ids",
        ),
        "promote.chunk_size": (
            lambda v: PromoteTweetsOperator(task_id="t", line_item_id=li, tweet_ids=["1"], chunk_size=v),
            small_ints.filter(lambda v: not (isinstance(v, int) and 1 <= v <= 50)),
            "chunk_size",
        ),
        "sensor.resource": (
            lambda v: sensor(resource=v),
            ANYTHING.filter(_not_in(vocab.RESOURCES)),
            "resource",
        ),
        "sensor.approval_status": (
            lambda v: sensor(resource="promoted_tweets", filters={}, entity_status=None, approval_status=v),
            st.text(min_size=1, max_size=10).filter(_not_in(vocab.PROMOTED_TWEET_APPROVAL_STATUSES)),
            "approval_status",
        ),
        "sensor.min_count": (
            lambda v: sensor(min_count=v),
            st.one_of(
                st.integers(max_value=0),
                st.sampled_from(["abc", "1.5", "-3", "\x00"]),
                st.floats(0.1, 9.9).filter(lambda f: not f.is_integer()),
            ),
            "min_count",
        ),
        "sensor.page_size": (
            lambda v: sensor(page_size=v),
            st.one_of(
                st.integers(max_value=0), st.integers(min_value=1001), st.sampled_from(["abc", "", "1e3"])
            ),
            "page_size",
        ),
    }


OPERATOR_CASES = sorted(_operator_cases())


@pytest.mark.parametrize("case", OPERATOR_CASES)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(data=st.data())
def test_operators_reject_bad_arguments_before_any_http(emu: Any, case: str, data: Any) -> None:
    build, strategy, parameter = _operator_cases()[case]
    value = data.draw(strategy, label=parameter)
    before = _requests(emu)
    op = build(value)
    with pytest.raises(AdsApiValidationError) as info:
        _run(op)
    _assert_names(info.value, parameter)
    assert _requests(emu) == before, "no HTTP call for an invalid argument"


# ---------------------------------------------------------------------------------------------------------
# Regressions: defects the properties above found (since fixed in the provider), one deterministic test each
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["", "   "])
def test_a_blank_targeting_value_is_refused_before_http(client: Any, value: str) -> None:
    op = {
        "operation_type": "Create",
        "params": {"line_item_id": SEED["line_item_id"], "targeting_type": "AGE", "targeting_value": value},
    }
    with pytest.raises(AdsApiValidationError) as info:
        client.batch_targeting_criteria([op])
    _assert_names(info.value, "targeting_value")
    assert client.stats.calls == 0


def test_tweet_id_zero_is_refused_before_http(client: Any) -> None:
    with pytest.raises(AdsApiValidationError) as info:
        client.create_promoted_tweets(SEED["line_item_id"], ["0"])
    _assert_names(info.value, "tweet_ids")
    assert client.stats.calls == 0


@pytest.mark.parametrize("case", ["promote.chunk_size", "targeting.chunk_size"])
def test_a_chunk_size_of_the_wrong_type_is_a_validation_error(emu: Any, case: str) -> None:
    build, _strategy, parameter = _operator_cases()[case]
    with pytest.raises(AdsApiValidationError) as info:
        _run(build("10"))  # e.g. rendered from a template or a DAG param
    _assert_names(info.value, parameter)
    assert _requests(emu) == 0


@pytest.mark.parametrize(
    ("parameter", "value"), [("min_count", "abc"), ("min_count", 2.5), ("page_size", "abc")]
)
def test_sensor_numbers_are_validated_not_crashed_on_or_truncated(
    emu: Any, parameter: str, value: Any
) -> None:
    build, _strategy, _ = _operator_cases()[f"sensor.{parameter}"]
    with pytest.raises(AdsApiValidationError) as info:
        _run(build(value))
    _assert_names(info.value, parameter)
    assert _requests(emu) == 0
