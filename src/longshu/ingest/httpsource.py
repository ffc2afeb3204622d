"""HTTP APIs (接口): pull the records of a JSON API page by page, with authentication,
retries and limits, into an Arrow table (nested objects flattened as JSON files are, by
``ingest.jsonfile``).

    source = read_http("https://api.gs.gov.cn/v1/visitors", records="data.items",
                       paging=Paging("page", size=500), auth=Auth("bearer", token))

Paging: ``page`` (page number and size), ``offset`` (offset and limit), ``cursor`` (the next
cursor read from the body, sent back as a parameter) and ``link`` (RFC 8288 ``Link: <…>;
rel="next"``, same origin only). A page with fewer records than the size, an empty page, a
missing cursor or no next link ends the pull. Every page is checked whole before anything is
loaded: a non-JSON or malformed body, a missing records path, more pages than ``max_pages``
or a body over ``max_bytes`` refuses the pull.

Retries: 429 and 5xx answers and network failures are retried up to ``retries`` times with
exponential backoff, waiting what ``Retry-After`` asks when it asks for no more than
``max_wait`` seconds. Secrets (token, password, API key) are sent, never shown: errors and
details carry the URL with secret parameters and user info replaced by ``***``."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from longshu.ingest.errors import IngestError, InvalidOption
from longshu.ingest.jsonfile import records_source
from longshu.ingest.source import MB, Source

PAGING_KINDS = ("none", "page", "offset", "cursor", "link")
AUTH_KINDS = ("bearer", "basic", "header", "query")
RETRY_STATUSES = {429, 500, 502, 503, 504}
SECRET_PARAMS = {
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "password",
    "sign",
    "signature",
}
DEFAULT_MAX_BYTES = 50 * MB  # one response body
USER_AGENT = "Longshu-ingest/1 (+https://longshu.gansu.gov.cn)"


class _NoQueryInLogs(logging.Filter):
    """httpx logs every request's URL at INFO; an API key may sit in its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                str(a.copy_with(query=b"***")) if isinstance(a, httpx.URL) and a.query else a
                for a in record.args
            )
        return True


if not any(isinstance(f, _NoQueryInLogs) for f in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(_NoQueryInLogs())


# --- errors (English here; Chinese in ingest.po) -------------------------------------------


class HttpUnavailable(IngestError):
    key = "ingest.http_unavailable"
    status = 502
    message = "The API {url} could not be reached after {attempts} attempts: {detail}"


class HttpStatus(IngestError):
    key = "ingest.http_status"
    status = 502
    message = "The API {url} answered HTTP {code} after {attempts} attempts."

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        # a busy or failing server may answer later: the jobs worker tries again
        self.transient = params.get("code") in RETRY_STATUSES


class HttpAuthRejected(IngestError):
    key = "ingest.http_auth_rejected"
    status = 502
    message = (
        "The API {url} refused our credentials (HTTP {code}); check the token, password or API key."
    )


class HttpNotJson(IngestError):
    key = "ingest.http_not_json"
    message = "The API {url} answered {content_type}, not JSON."


class HttpBadJson(IngestError):
    key = "ingest.http_bad_json"
    message = "The API {url} answered malformed JSON at line {line}, column {column}: {detail}"


class HttpTooLarge(IngestError):
    key = "ingest.http_too_large"
    message = "A response of the API {url} is over the limit of {limit} bytes."


class HttpTooManyPages(IngestError):
    key = "ingest.http_too_many_pages"
    message = (
        "The API {url} has more than {limit} pages; raise the page limit or narrow the request."
    )


class HttpRecordsMissing(IngestError):
    key = "ingest.http_records_missing"
    message = "Page {page} of the API {url} has no list of records at {path}."


class HttpNoRecords(IngestError):
    key = "ingest.http_no_records"
    message = "The API {url} returned no records."


class HttpForeignLink(IngestError):
    key = "ingest.http_foreign_link"
    message = "The API {url} points its next page at another site ({origin}); the pull stops rather than send credentials there."


class HttpTimeout(IngestError):
    key = "ingest.http_timeout"
    status = 504
    message = "The pull from the API {url} did not finish within {seconds} seconds."


# --- options -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paging:
    """How the API pages. ``size`` records a page; parameter names as the API spells them."""

    kind: str = "none"
    size: int = 100
    page_param: str = "page"
    size_param: str = "size"
    first_page: int = 1
    offset_param: str = "offset"
    limit_param: str = "limit"
    cursor_param: str = "cursor"
    cursor_path: str = "next_cursor"  # where the body names the next cursor (dotted)

    def __post_init__(self) -> None:
        if self.kind not in PAGING_KINDS:
            raise InvalidOption(option="paging", detail="one of " + ", ".join(PAGING_KINDS))
        if not isinstance(self.size, int) or self.size <= 0:
            raise InvalidOption(option="paging.size", detail="a positive number of records")


@dataclass(frozen=True)
class Auth:
    """``bearer`` (secret = token), ``basic`` (name = user, secret = password), ``header``
    and ``query`` (name = header or parameter name, secret = API key)."""

    kind: str
    secret: str
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in AUTH_KINDS:
            raise InvalidOption(option="auth", detail="one of " + ", ".join(AUTH_KINDS))
        if not self.secret or (self.kind != "bearer" and not self.name):
            raise InvalidOption(option="auth", detail=f"{self.kind} needs a name and a secret")
        in_header = (self.secret, self.name) if self.kind in ("bearer", "header") else (self.name,)
        if not all(v.isascii() and v.isprintable() for v in in_header if v):
            # header values are ASCII; a line break would forge another header
            raise InvalidOption(option="auth", detail="printable ASCII in header names and values")

    def __repr__(self) -> str:  # never print the secret
        return f"Auth(kind={self.kind!r}, name={self.name!r}, secret='***')"


def masked_url(url: str | httpx.URL, auth: Auth | None = None) -> str:
    """The URL as it may appear in errors and events: no user info, secret parameters ``***``."""
    try:
        parsed = httpx.URL(str(url))
    except httpx.InvalidURL:
        return "(invalid URL)"
    secret_names = SECRET_PARAMS | ({auth.name.lower()} if auth and auth.kind == "query" else set())
    params = [
        (k, "***" if k.lower() in secret_names else v) for k, v in parsed.params.multi_items()
    ]
    shown = parsed.copy_with(userinfo=b"").copy_with(params=params or None)
    return str(shown)


# --- reading -------------------------------------------------------------------------------


def read_http(
    url: str,
    *,
    records: str | None = None,
    paging: Paging | None = None,
    auth: Auth | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout_seconds: float = 30.0,
    total_timeout_seconds: float = 1800.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pages: int = 1000,
    retries: int = 4,
    backoff_seconds: float = 0.5,
    max_wait_seconds: float = 60.0,
) -> Source:
    """Read every page of ``url`` and return its records as one table.

    ``records`` is the dotted path of the record list in each body (``data.items``); without
    it the body must be a list, or an object with exactly one list. ``timeout_seconds``
    bounds each request, ``total_timeout_seconds`` the pull. Nothing is returned unless every
    page was read and checked."""
    paging = paging or Paging()
    for option, value in (("max_bytes", max_bytes), ("max_pages", max_pages)):
        if not isinstance(value, int) or value <= 0:
            raise InvalidOption(option=option, detail="a positive number")
    if not isinstance(retries, int) or retries < 0:
        raise InvalidOption(option="retries", detail="zero or more")
    try:
        start = httpx.URL(url)
    except httpx.InvalidURL:
        raise InvalidOption(option="url", detail="an http:// or https:// address") from None
    if start.scheme not in ("http", "https") or not start.host:
        raise InvalidOption(option="url", detail="an http:// or https:// address")
    shown = masked_url(start, auth)
    puller = _Puller(
        shown=shown,
        auth=auth,
        retries=retries,
        backoff=backoff_seconds,
        max_wait=max_wait_seconds,
        max_bytes=max_bytes,
        deadline=time.monotonic() + total_timeout_seconds,
        total=total_timeout_seconds,
    )
    if start.userinfo and auth is None:  # https://user:pass@host/… means basic auth
        auth = Auth("basic", start.password or "", start.username)
        puller.auth = auth
    start = start.copy_with(userinfo=b"")
    client = httpx.Client(
        timeout=httpx.Timeout(timeout_seconds),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        follow_redirects=False,
        trust_env=False,
    )
    items: list[tuple[int, Any]] = []
    pages = 0
    with client:
        request_url: httpx.URL | None = start
        query = dict(params or {})
        page_no, offset = paging.first_page, 0
        while request_url is not None:
            if pages >= max_pages:
                raise HttpTooManyPages(url=shown, limit=max_pages)
            query_now = dict(query)
            if paging.kind == "page":
                query_now |= {paging.page_param: page_no, paging.size_param: paging.size}
            elif paging.kind == "offset":
                query_now |= {paging.offset_param: offset, paging.limit_param: paging.size}
            body, response = puller.get_json(client, request_url, query_now)
            pages += 1
            found = _records_at(body, records)
            if found is None:
                raise HttpRecordsMissing(url=shown, page=pages, path=records or "(the body)")
            items.extend(enumerate(found, start=len(items) + 1))
            request_url = None
            if paging.kind in ("page", "offset"):
                if len(found) >= paging.size:
                    request_url = start
                    page_no, offset = page_no + 1, offset + len(found)
            elif paging.kind == "cursor":
                cursor = _at(body, paging.cursor_path)
                if cursor not in (None, "") and found:
                    query[paging.cursor_param] = cursor
                    request_url = start
            elif paging.kind == "link":
                request_url = _next_link(response, start, shown)
                query = {}  # the link carries its own parameters
    if not items:
        raise HttpNoRecords(url=shown)
    source = records_source(_Label(shown), items, "json", "utf-8")  # type: ignore[arg-type]
    details = {
        "url": shown,
        "pages": pages,
        "requests": puller.requests,
        "retries": puller.retried,
        "bytes": puller.bytes,
        "paging": paging.kind,
        "auth": auth.kind if auth else "none",
        "records_path": records,
    }
    return Source(data=source.data, rows=source.rows, format="http", details=details)


@dataclass(frozen=True)
class _Label:
    """What ``jsonfile`` names a source by in its row reports (``.name``): the masked URL."""

    name: str


def _at(body: Any, path: str | None) -> Any:
    value = body
    for part in (path or "").split(".") if path else []:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _records_at(body: Any, path: str | None) -> list[Any] | None:
    found = _at(body, path)
    if path is None and isinstance(found, dict):  # {"data": [...]}: one list-valued key
        lists = [v for v in found.values() if isinstance(v, list)]
        found = lists[0] if len(lists) == 1 else found
    return found if isinstance(found, list) else None


def _next_link(response: httpx.Response, start: httpx.URL, shown: str) -> httpx.URL | None:
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    target = response.url.join(link)
    if (target.scheme, target.host, target.port) != (start.scheme, start.host, start.port):
        raise HttpForeignLink(url=shown, origin=f"{target.scheme}://{target.host}")
    return target


@dataclass
class _Puller:
    """One pull's requests: authentication, retries with backoff, size limit, deadline."""

    shown: str
    auth: Auth | None
    retries: int
    backoff: float
    max_wait: float
    max_bytes: int
    deadline: float
    total: float
    requests: int = 0
    retried: int = 0
    bytes: int = 0

    def get_json(
        self, client: httpx.Client, url: httpx.URL, params: dict[str, Any]
    ) -> tuple[Any, httpx.Response]:
        headers: dict[str, str] = {}
        auth: httpx.Auth | None = None
        if self.auth is not None:
            kind, secret, name = self.auth.kind, self.auth.secret, self.auth.name
            if kind == "bearer":
                headers["Authorization"] = f"Bearer {secret}"
            elif kind == "basic":
                auth = httpx.BasicAuth(name, secret)
            elif kind == "header":
                headers[name] = secret
            else:
                params = {**params, name: secret}
        if params:
            url = url.copy_merge_params({k: str(v) for k, v in params.items()})
        attempt = 0
        while True:
            attempt += 1
            self._check_deadline()
            self.requests += 1
            try:
                with client.stream("GET", url, headers=headers, auth=auth) as response:
                    if response.status_code in RETRY_STATUSES and attempt <= self.retries:
                        wait = self._wait(attempt, response.headers.get("Retry-After"))
                        if wait is not None:
                            self.retried += 1
                            self._sleep(wait)
                            continue
                    if response.status_code in (401, 403):
                        raise HttpAuthRejected(url=self.shown, code=response.status_code)
                    if response.status_code != 200:
                        raise HttpStatus(
                            url=self.shown, code=response.status_code, attempts=attempt
                        )
                    raw = self._body(response)
            except httpx.TransportError as error:
                if attempt <= self.retries:
                    self.retried += 1
                    self._sleep(self._backoff(attempt))
                    continue
                detail = type(error).__name__
                raise HttpUnavailable(url=self.shown, attempts=attempt, detail=detail) from None
            return self._parse(response, raw), response

    def _body(self, response: httpx.Response) -> bytes:
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not (kind == "application/json" or kind.endswith("+json") or kind == "text/json"):
            raise HttpNotJson(url=self.shown, content_type=kind or "no content type")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise HttpTooLarge(url=self.shown, limit=self.max_bytes)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise HttpTooLarge(url=self.shown, limit=self.max_bytes)
            chunks.append(chunk)
            self._check_deadline()
        self.bytes += size
        return b"".join(chunks)

    def _parse(self, response: httpx.Response, raw: bytes) -> Any:
        charset = response.charset_encoding or "utf-8"
        try:
            text = raw.decode(charset)
        except (UnicodeDecodeError, LookupError):
            raise HttpBadJson(
                url=self.shown, line=1, column=1, detail=f"not {charset} text"
            ) from None
        try:
            return json.loads(text.lstrip("\ufeff"))
        except json.JSONDecodeError as error:
            raise HttpBadJson(
                url=self.shown, line=error.lineno, column=error.colno, detail=error.msg
            ) from None

    def _backoff(self, attempt: int) -> float:
        return min(self.max_wait, self.backoff * 2 ** (attempt - 1))

    def _wait(self, attempt: int, retry_after: str | None) -> float | None:
        """Seconds to wait before the next attempt; None when the server asks too long."""
        if retry_after is None:
            return self._backoff(attempt)
        asked = _retry_after_seconds(retry_after)
        if asked is None:
            return self._backoff(attempt)
        return asked if asked <= self.max_wait else None

    def _sleep(self, seconds: float) -> None:
        if time.monotonic() + seconds > self.deadline:
            raise HttpTimeout(url=self.shown, seconds=self.total)
        time.sleep(seconds)

    def _check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise HttpTimeout(url=self.shown, seconds=self.total)


def _retry_after_seconds(value: str) -> float | None:
    """``Retry-After``: delay seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def source_label(url: str) -> str:
    """How a pull names its source for people and the lake: host and path, no query."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "?"
    return f"{parsed.host}{parsed.path}"[:200]
