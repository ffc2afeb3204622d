"""The HTTP JSON API connector against a real local server (Starlette under uvicorn in a
thread): every kind of paging and authentication, retries, and the bodies it must refuse."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from longshu import lake
from longshu.actor import Actor
from longshu.events import Event
from longshu.ingest import service
from longshu.ingest.errors import MalformedRows
from longshu.ingest.httpsource import (
    Auth,
    HttpAuthRejected,
    HttpBadJson,
    HttpForeignLink,
    HttpNoRecords,
    HttpNotJson,
    HttpRecordsMissing,
    HttpStatus,
    HttpTooLarge,
    HttpTooManyPages,
    HttpUnavailable,
    Paging,
    masked_url,
    read_http,
)
from longshu.lake import tables
from longshu.lake.config import reset_lake_settings
from longshu.lake.policy import Grant, TableGrant

TOKEN = "tok-HuoQubing-0721"
API_KEY = "k3y-Dunhuang-5150"
PASSWORD = "pw-嘉峪关!"
SPOTS = ["莫高窟", "鸣沙山月牙泉", "嘉峪关", "麦积山", "张掖丹霞"]
ROWS = [
    {
        "id": i,
        "spot": SPOTS[i % 5],
        "visitors": 1000 + i,
        "day": f"2026-10-{1 + i % 28:02d}",
        "weather": {"temp": 10.5 + i, "warning": None if i % 3 else "大风"},
    }
    for i in range(1, 24)
]
hits: Counter[str] = Counter()


def _slice(start: int, size: int) -> list[dict]:
    return ROWS[start : start + size]


def _unauthorised() -> Response:
    return JSONResponse({"error": "unauthorised"}, status_code=401)


async def pages(request: Request) -> Response:  # bearer token; page + size
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return _unauthorised()
    page, size = int(request.query_params["page"]), int(request.query_params["size"])
    return JSONResponse({"code": 0, "data": {"items": _slice((page - 1) * size, size)}})


async def offsets(request: Request) -> Response:  # basic auth; offset + limit
    expected = "Basic " + base64.b64encode(f"gansu:{PASSWORD}".encode()).decode()
    if request.headers.get("authorization") != expected:
        return _unauthorised()
    offset, limit = int(request.query_params["offset"]), int(request.query_params["limit"])
    return JSONResponse({"rows": _slice(offset, limit)})


async def cursors(request: Request) -> Response:  # API key header; cursor in the body
    if request.headers.get("x-api-key") != API_KEY:
        return _unauthorised()
    start = int(request.query_params.get("cursor") or 0)
    nxt = start + 10 if start + 10 < len(ROWS) else None
    return JSONResponse({"items": _slice(start, 10), "meta": {"next": nxt and str(nxt)}})


async def links(request: Request) -> Response:  # API key in the query; RFC 8288 Link
    if request.query_params.get("apikey") != API_KEY:
        return _unauthorised()
    start = int(request.query_params.get("from", 0))
    headers = {}
    if start + 8 < len(ROWS):
        headers["Link"] = f'</links?from={start + 8}>; rel="next", </links>; rel="first"'
    return JSONResponse(_slice(start, 8), headers=headers)


async def flaky(request: Request) -> Response:  # 429 with Retry-After, then 503, then OK
    name = request.query_params["run"]
    hits[name] += 1
    if hits[name] == 1:
        return JSONResponse({"error": "slow down"}, status_code=429, headers={"Retry-After": "1"})
    if hits[name] == 2:
        return JSONResponse({"error": "busy"}, status_code=503)
    return JSONResponse({"data": ROWS[:3]})


async def throttled(request: Request) -> Response:
    hits["throttled"] += 1
    return JSONResponse({}, status_code=429, headers={"Retry-After": "3600"})


async def broken(request: Request) -> Response:
    hits["broken"] += 1
    return JSONResponse({"error": "down"}, status_code=500)


async def malformed(request: Request) -> Response:
    return Response(b'{"data": [{"id": 1}, {"id": 2,}]}', media_type="application/json")


async def html(request: Request) -> Response:
    return Response(
        b"<html><body>\xe7\xbb\xb4\xe6\x8a\xa4\xe4\xb8\xad</body></html>", media_type="text/html"
    )


async def big(request: Request) -> Response:
    return JSONResponse({"data": [{"id": i, "text": "陇" * 100} for i in range(2000)]})


async def endless(request: Request) -> Response:
    page = int(request.query_params["page"])
    return JSONResponse({"data": [{"id": page}]})


async def foreign(request: Request) -> Response:
    return JSONResponse(
        [{"id": 1}], headers={"Link": '<http://evil.example.org/steal>; rel="next"'}
    )


async def nested_list(request: Request) -> Response:
    return JSONResponse({"data": [{"id": 1, "tags": ["a", "b"]}, {"id": 2}, "oops"]})


async def empty(request: Request) -> Response:
    return JSONResponse({"data": {"items": []}})


async def wrong_path(request: Request) -> Response:
    return JSONResponse({"data": {"list": [{"id": 1}]}})


async def slow(request: Request) -> Response:
    import asyncio

    await asyncio.sleep(2)
    return JSONResponse([{"id": 1}])


APP = Starlette(
    routes=[
        Route("/pages", pages),
        Route("/offsets", offsets),
        Route("/cursors", cursors),
        Route("/links", links),
        Route("/flaky", flaky),
        Route("/throttled", throttled),
        Route("/broken", broken),
        Route("/malformed", malformed),
        Route("/html", html),
        Route("/big", big),
        Route("/endless", endless),
        Route("/foreign", foreign),
        Route("/nested", nested_list),
        Route("/empty", empty),
        Route("/wrong-path", wrong_path),
        Route("/slow", slow),
    ]
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    """The base URL of a real HTTP server running the app above."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(APP, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test API server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def _ids(source) -> list[int]:
    table = source.data if isinstance(source.data, pa.Table) else source.data.read_all()
    return table.column("id").to_pylist()


# --- paging and authentication ----------------------------------------------------------


def test_page_number_paging_with_a_bearer_token_reads_every_page(api):
    source = read_http(
        f"{api}/pages",
        records="data.items",
        paging=Paging("page", size=5),
        auth=Auth("bearer", TOKEN),
    )
    assert source.rows == 23 and _ids(source) == list(range(1, 24))
    assert source.format == "http"
    assert source.details | {"bytes": 0} == {
        "url": f"{api}/pages",
        "pages": 5,
        "requests": 5,
        "retries": 0,
        "bytes": 0,
        "paging": "page",
        "auth": "bearer",
        "records_path": "data.items",
    }


def test_nested_objects_are_flattened_as_json_files_are(api):
    source = read_http(
        f"{api}/pages",
        records="data.items",
        paging=Paging("page", size=50),
        auth=Auth("bearer", TOKEN),
    )
    table = source.data
    assert table.column_names == [
        "id",
        "spot",
        "visitors",
        "day",
        "weather_temp",
        "weather_warning",
    ]
    assert table.schema.field("weather_temp").type == pa.float64()
    assert table.schema.field("visitors").type == pa.int64()
    assert table.slice(2, 1).to_pylist()[0]["weather_warning"] == "大风"
    assert source.details["pages"] == 1  # fewer records than the size: the last page


def test_offset_paging_with_basic_auth(api):
    source = read_http(
        f"{api}/offsets",
        records="rows",
        paging=Paging("offset", size=10),
        auth=Auth("basic", PASSWORD, "gansu"),
    )
    assert _ids(source) == list(range(1, 24)) and source.details["pages"] == 3


def test_basic_auth_can_come_in_the_url_and_is_never_shown(api):
    url = f"http://gansu:{PASSWORD}@{api.removeprefix('http://')}/offsets"
    source = read_http(url, records="rows", paging=Paging("offset", size=10))
    assert source.rows == 23 and source.details["auth"] == "basic"
    assert PASSWORD not in str(source.details)


def test_cursor_paging_with_an_api_key_header(api):
    source = read_http(
        f"{api}/cursors",
        records="items",
        paging=Paging("cursor", cursor_param="cursor", cursor_path="meta.next"),
        auth=Auth("header", API_KEY, "X-Api-Key"),
    )
    assert _ids(source) == list(range(1, 24)) and source.details["pages"] == 3


def test_link_header_paging_with_an_api_key_parameter_keeps_the_key_out_of_sight(api):
    source = read_http(f"{api}/links", paging=Paging("link"), auth=Auth("query", API_KEY, "apikey"))
    assert _ids(source) == list(range(1, 24)) and source.details["pages"] == 3
    assert API_KEY not in str(source.details)


def test_a_next_link_to_another_site_is_refused(api):
    with pytest.raises(HttpForeignLink) as refused:
        read_http(f"{api}/foreign", paging=Paging("link"), auth=Auth("bearer", TOKEN))
    assert "evil.example.org" in str(refused.value)


@pytest.mark.parametrize(
    "auth",
    [None, Auth("bearer", "wrong"), Auth("header", "wrong", "X-Api-Key")],
    ids=["none", "bad-token", "bad-key"],
)
def test_wrong_credentials_are_reported_as_such(api, auth):
    with pytest.raises(HttpAuthRejected) as refused:
        read_http(f"{api}/cursors", records="items", paging=Paging("cursor"), auth=auth)
    assert refused.value.key == "ingest.http_auth_rejected"
    assert "401" in str(refused.value) and "wrong" not in str(refused.value)


def test_an_api_key_in_the_url_is_masked_in_errors(api):
    with pytest.raises(HttpAuthRejected) as refused:
        read_http(f"{api}/links?apikey=not-{API_KEY}&token=abc", paging=Paging("link"))
    assert API_KEY not in str(refused.value) and "abc" not in str(refused.value)
    assert "apikey=%2A%2A%2A" in str(refused.value) or "apikey=***" in str(refused.value)


def test_masked_url_hides_user_info_and_secret_parameters():
    shown = masked_url("https://u:p@api.gs.gov.cn/v1?sign=s1&page=2&k=v", Auth("query", "v", "k"))
    assert "u:p" not in shown and "s1" not in shown and "=v" not in shown and "page=2" in shown
    assert "v" not in repr(Auth("query", "v", "k")).replace("kind", "").replace("'query'", "")


# --- retries ----------------------------------------------------------------------------


def test_429_with_retry_after_then_503_are_retried_until_the_answer_comes(api):
    started = time.monotonic()
    source = read_http(f"{api}/flaky?run=a", backoff_seconds=0.05)
    assert source.rows == 3
    assert source.details["requests"] == 3 and source.details["retries"] == 2
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured


def test_retry_after_longer_than_allowed_stops_at_once(api):
    before = hits["throttled"]
    started = time.monotonic()
    with pytest.raises(HttpStatus) as refused:
        read_http(f"{api}/throttled", max_wait_seconds=5)
    assert time.monotonic() - started < 2
    assert hits["throttled"] - before == 1 and "429" in str(refused.value)


def test_server_errors_are_retried_with_backoff_then_reported(api):
    before = hits["broken"]
    started = time.monotonic()
    with pytest.raises(HttpStatus) as refused:
        read_http(f"{api}/broken", retries=3, backoff_seconds=0.1)
    assert hits["broken"] - before == 4  # one try and three retries
    assert time.monotonic() - started >= 0.1 + 0.2 + 0.4  # doubling waits
    assert refused.value.params == {"url": f"{api}/broken", "code": 500, "attempts": 4}


def test_a_request_that_times_out_is_retried_then_reported(api):
    with pytest.raises(HttpUnavailable) as refused:
        read_http(f"{api}/slow", timeout_seconds=0.3, retries=1, backoff_seconds=0.05)
    assert refused.value.params["attempts"] == 2 and "Timeout" in refused.value.params["detail"]


def test_nothing_listens_is_reported_after_retries():
    port = _free_port()
    with pytest.raises(HttpUnavailable):
        read_http(f"http://127.0.0.1:{port}/x", retries=1, backoff_seconds=0.01)


# --- refused bodies and limits ----------------------------------------------------------


def test_malformed_json_is_refused_with_its_position(api):
    with pytest.raises(HttpBadJson) as refused:
        read_http(f"{api}/malformed")
    assert refused.value.params["line"] == 1 and refused.value.params["column"] == 31


def test_a_non_json_answer_is_refused(api):
    with pytest.raises(HttpNotJson) as refused:
        read_http(f"{api}/html")
    assert "text/html" in str(refused.value)


def test_a_body_over_the_size_limit_is_refused(api):
    with pytest.raises(HttpTooLarge):
        read_http(f"{api}/big", max_bytes=100_000)
    assert read_http(f"{api}/big").rows == 2000


def test_more_pages_than_allowed_are_refused_not_cut(api):
    with pytest.raises(HttpTooManyPages):
        read_http(f"{api}/endless", paging=Paging("page", size=1), max_pages=4)


def test_a_missing_records_path_is_named(api):
    with pytest.raises(HttpRecordsMissing) as refused:
        read_http(f"{api}/wrong-path", records="data.items")
    assert "data.items" in str(refused.value)


def test_no_records_at_all_is_refused(api):
    with pytest.raises(HttpNoRecords):
        read_http(f"{api}/empty", records="data.items")


def test_records_that_cannot_be_columns_are_reported_per_record(api):
    with pytest.raises(MalformedRows) as refused:
        read_http(f"{api}/nested")
    assert refused.value.params["count"] == 2
    assert [p["row"] for p in refused.value.report()] == [1, 3]


def test_a_token_that_cannot_be_a_header_is_refused_before_any_request():
    from longshu.ingest.errors import InvalidOption

    for auth in (("bearer", "霍去病"), ("bearer", "a\r\nX-Evil: 1"), ("header", "k", "X Bad\n")):
        with pytest.raises(InvalidOption):
            Auth(*auth)


def test_only_http_urls_are_accepted():
    from longshu.ingest.errors import InvalidOption

    for url in ("file:///etc/passwd", "ftp://x/y", "not a url"):
        with pytest.raises(InvalidOption):
            read_http(url)


def test_dates_stay_text_as_in_json_files(api):
    table = read_http(
        f"{api}/pages",
        records="data.items",
        paging=Paging("page", size=50),
        auth=Auth("bearer", TOKEN),
    ).data
    assert table.column("day")[0].as_py() == "2026-10-02"


# --- into the lake ----------------------------------------------------------------------


@pytest.fixture
def visitors_table(settings, session, monkeypatch):
    """An empty lake table ``visitors`` of organisation 7 under the test's own lake folder."""
    for name in ("URI", "ENGINE", "STORAGE_OPTIONS"):
        monkeypatch.delenv(f"LONGSHU_LAKE_{name}", raising=False)
    reset_lake_settings()
    admin = Actor(kind="user", id=1, name="admin", roles=frozenset({"platform_admin"}), mfa=True)
    table = tables.create_table(
        session, admin, "visitors", resource_id=102, owner_org_id=7, key_columns=["id"]
    )
    session.commit()
    yield table
    reset_lake_settings()


def test_an_api_loads_as_a_lake_version_read_back_through_the_door(api, session, visitors_table):
    manager = Actor(kind="user", id=2, name="dept", org_id=7, roles=frozenset({"dept_data_admin"}))
    result = service.load_source(
        session,
        manager,
        visitors_table,
        lambda: read_http(
            f"{api}/pages",
            records="data.items",
            paging=Paging("page", size=5),
            auth=Auth("bearer", TOKEN),
        ),
        label="visitors@api",
        mode="upsert",
    )
    session.commit()
    assert (result.version, result.rows, result.status, result.format) == (1, 23, "ready", "http")
    grant = Grant(
        id="test:http",
        consumer="org:7",
        max_rows=100,
        timeout_seconds=30,
        tables=(TableGrant(table="visitors", versions=(1,), columns=("spot", "visitors")),),
    )
    rows = lake.access(
        session,
        manager,
        grant,
        "SELECT spot, sum(visitors) AS total FROM visitors GROUP BY spot ORDER BY total DESC",
    ).data.to_pylist()
    assert {r["spot"] for r in rows} == set(SPOTS)
    assert sum(r["total"] for r in rows) == sum(r["visitors"] for r in ROWS)
    session.flush()
    finished = session.scalars(select(Event).where(Event.type == "ingest.load_finished")).one()
    assert finished.payload["details"]["pages"] == 5
    assert TOKEN not in str(finished.payload)


def test_a_failed_api_pull_leaves_no_version(api, session, visitors_table):
    manager = Actor(kind="user", id=2, name="dept", org_id=7, roles=frozenset({"dept_data_admin"}))
    with pytest.raises(HttpBadJson):
        service.load_source(
            session,
            manager,
            visitors_table,
            lambda: read_http(f"{api}/malformed"),
            label="broken@api",
        )
    session.commit()
    assert tables.list_versions(session, manager, visitors_table) == []
    failed = session.scalars(select(Event).where(Event.type == "ingest.load_failed")).one()
    assert failed.payload["error"] == "ingest.http_bad_json"


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    import email.utils

    from longshu.ingest.httpsource import _retry_after_seconds

    assert _retry_after_seconds("7") == 7.0
    soon = email.utils.format_datetime(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True
    )
    assert 25 <= _retry_after_seconds(soon) <= 30
    assert _retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # already past
    assert _retry_after_seconds("soon") is None


def test_an_api_key_in_the_query_stays_out_of_the_logs(api, caplog):
    with caplog.at_level(logging.DEBUG):
        read_http(f"{api}/links", paging=Paging("link"), auth=Auth("query", API_KEY, "apikey"))
    assert "HTTP Request" in caplog.text and API_KEY not in caplog.text
