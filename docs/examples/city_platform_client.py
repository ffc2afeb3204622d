"""A city platform's client for the province's sharing API (Longshu), with signed requests.

Every call carries ``Authorization: LONGSHU-SM2 app=…, ts=…, nonce=…, sig=…``: an SM2
signature (signer ID "1234567812345678") over the canonical string of the request, so the
province knows which system called, that nothing was changed on the way, and refuses the same
request sent twice. The canonical string is eight lines joined by "\\n":

    LONGSHU-SM2-V1
    <METHOD>                       upper case
    <path>                         percent-decoded, without the query
    <canonical query>              name=value pairs decoded, re-encoded (RFC 3986), sorted
    <app id>
    <ts>                           unix seconds; the server accepts ±300 s
    <nonce>                        32 lower-case hex digits, new for every request
    <SM3 hex digest of the body>   of the exact bytes sent (empty body: SM3 of b"")

Dependencies: ``httpx``, ``cryptography`` (SM3) and an SM2 implementation — Longshu's own
(``longshu.security.crypto.sm2``) when installed, else ``gmalg`` (``pip install gmalg``).

    python city_platform_client.py keygen city-key.json         # then give the public key
                                                                 # to the province's data manager
    python city_platform_client.py --url https://sjj.gansu.example --app 12 --key city-key.json grants
    python city_platform_client.py --url … --app 12 --key city-key.json \\
        query 5 --fields xm,xzqh --where xzqh=620102 --limit 10
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_plus

import httpx
from cryptography.hazmat.primitives import hashes

SCHEME = "LONGSHU-SM2"
VERSION = "LONGSHU-SM2-V1"
SM2_USER_ID = b"1234567812345678"


# --- SM3 and SM2 ------------------------------------------------------------------------------


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def generate_key() -> tuple[str, str]:
    """A new SM2 key pair as hex: (private key d, public key 04 ‖ x ‖ y)."""
    try:
        from longshu.security.crypto import sm2
    except ImportError:
        import gmalg

        private, public = gmalg.SM2().generate_keypair()
        return private.rjust(32, b"\0").hex(), public.hex()
    d = sm2.generate_private_key()
    return d.to_bytes(32, "big").hex(), sm2.encode_point(sm2.public_point(d)).hex()


def sm2_sign(private_hex: str, public_hex: str, message: bytes) -> bytes:
    """The 64-byte SM2 signature r ‖ s of ``message`` (SM3, signer ID 1234567812345678)."""
    try:
        from longshu.security.crypto import sm2
    except ImportError:
        import gmalg

        signer = gmalg.SM2(bytes.fromhex(private_hex), SM2_USER_ID, bytes.fromhex(public_hex))
        r, s = signer.sign(message)
        return r.rjust(32, b"\0") + s.rjust(32, b"\0")
    return sm2.sign(int(private_hex, 16), message, SM2_USER_ID)


# --- the canonical request ----------------------------------------------------------------


def canonical_query(raw: str) -> str:
    pairs = []
    for part in raw.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append(
                (quote(unquote_plus(name), safe="-_.~"), quote(unquote_plus(value), safe="-_.~"))
            )
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_request(
    method: str, path: str, query: str, app_id: int, ts: int, nonce: str, body: bytes
) -> bytes:
    lines = [
        VERSION,
        method.upper(),
        path,
        canonical_query(query),
        str(app_id),
        str(ts),
        nonce,
        sm3_hex(body),
    ]
    return "\n".join(lines).encode()


# --- the client -------------------------------------------------------------------------------


class ProvinceError(Exception):
    """The province refused a call: HTTP status, stable error key, translated message."""

    def __init__(self, status: int, key: str, message: str) -> None:
        super().__init__(f"{status} {key}: {message}")
        self.status, self.key, self.message = status, key, message


class ProvinceClient:
    """Signed calls to the province's ``/api/v1/sharing`` as one application credential."""

    def __init__(
        self,
        base_url: str,
        app_id: int,
        private_key: str,
        public_key: str,
        *,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.app_id = app_id
        self._private, self._public = private_key, public_key
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)

    def prepare(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> httpx.Request:
        """A signed request, ready to send (sending it twice is a replay and is refused)."""
        content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"content-type": "application/json"} if body is not None else {}
        request = self.http.build_request(
            method, path, params=params, content=content, headers=headers
        )
        ts, nonce = int(time.time()), secrets.token_hex(16)
        message = canonical_request(
            request.method, request.url.path, request.url.query.decode("ascii"),
            self.app_id, ts, nonce, content,
        )  # fmt: skip
        signature = base64.b64encode(sm2_sign(self._private, self._public, message)).decode()
        request.headers["Authorization"] = (
            f"{SCHEME} app={self.app_id}, ts={ts}, nonce={nonce}, sig={signature}"
        )
        return request

    def send(self, request: httpx.Request) -> httpx.Response:
        return self.http.send(request)

    def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        """Sign, send, and return the JSON answer; ``ProvinceError`` when refused."""
        response = self.send(self.prepare(method, path, params=params, body=body))
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                key, message = error["key"], error["message"]
            except (ValueError, KeyError, TypeError):
                key, message = "http_error", response.text[:200]
            raise ProvinceError(response.status_code, key, message)
        return response.json()

    def grants(self, status: str | None = None) -> list[dict[str, Any]]:
        """The grants the city's department holds (and any it gave)."""
        params = {"status": status} if status else None
        return list(self.call("GET", "/api/v1/sharing/grants", params=params))

    def query(
        self,
        grant_id: int,
        fields: list[str] | None = None,
        where: list[dict[str, Any]] | None = None,
        order_by: list[tuple[str, bool]] | None = None,
        limit: int = 100,
        offset: int = 0,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Rows within a grant (查询): ``where`` items are {"field", "op", "value"}; ``op`` one
        of = != < <= > >= in prefix. Masks and region limits of the grant apply."""
        body: dict[str, Any] = {
            "fields": fields or [],
            "where": where or [],
            "order_by": [list(o) for o in order_by or []],
            "limit": limit,
            "offset": offset,
        }
        if version is not None:
            body["version"] = version
        return dict(self.call("POST", f"/api/v1/sharing/grants/{grant_id}/query", body=body))

    def close(self) -> None:
        self.http.close()


# --- command line -----------------------------------------------------------------------------


def _load_key(path: str) -> tuple[str, str]:
    data = json.loads(Path(path).read_text())
    return data["private_key"], data["public_key"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Call the province's Longshu sharing API.")
    parser.add_argument("--url", default=os.environ.get("LONGSHU_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--app", type=int, default=int(os.environ.get("LONGSHU_APP_ID", "0")))
    parser.add_argument("--key", default=os.environ.get("LONGSHU_KEY_FILE", "city-key.json"))
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="make a key pair; prints the public key")
    keygen.add_argument("file")
    listing = commands.add_parser("grants", help="list the grants of the department")
    listing.add_argument("--status")
    query = commands.add_parser("query", help="query within a grant")
    query.add_argument("grant", type=int)
    query.add_argument("--fields", default="")
    query.add_argument("--where", action="append", default=[], help="field=value (repeatable)")
    query.add_argument("--limit", type=int, default=20)
    args = parser.parse_args(argv)

    if args.command == "keygen":
        private, public = generate_key()
        path = Path(args.file)
        path.write_text(json.dumps({"private_key": private, "public_key": public}))
        path.chmod(0o600)
        print(public)  # register this at POST /api/v1/sharing/credentials/{id}/key
        return 0
    client = ProvinceClient(args.url, args.app, *_load_key(args.key))
    try:
        if args.command == "grants":
            result: Any = client.grants(args.status)
        else:
            where = [
                {"field": f, "op": "=", "value": v}
                for f, _, v in (w.partition("=") for w in args.where)
            ]
            fields = [f for f in args.fields.split(",") if f]
            result = client.query(args.grant, fields, where, limit=args.limit)
    except ProvinceError as error:
        print(json.dumps({"status": error.status, "key": error.key, "message": error.message},
                         ensure_ascii=False), file=sys.stderr)  # fmt: skip
        return 1
    finally:
        client.close()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
