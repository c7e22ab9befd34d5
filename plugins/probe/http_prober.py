"""The ``http`` prober: blackbox_exporter 0.23's http module on asyncio streams (HTTP/1.1, and HTTP/2 over TLS).

Faithful to blackbox_exporter: the target gets ``http://`` when it has no scheme;
the address is resolved once with ``preferred_ip_protocol`` / ``ip_protocol_fallback``;
success needs a valid status (``valid_status_codes``, 2xx by default), then the header
and body regular expressions, a complete body, a valid ``valid_http_versions`` entry,
and ``fail_if_ssl`` / ``fail_if_not_ssl``; up to 10 redirects are followed unless
``follow_redirects: false`` (or the older ``no_follow_redirects: true``); phases are
summed over redirects.

HTTP/2 as in the exporter (Go's net/http with ``enable_http2``, true by default): an
``https`` probe offers ``h2`` and ``http/1.1`` by ALPN and speaks HTTP/2 when the server
picks it (:mod:`.h2_client`), so the response's version is ``HTTP/2.0``; ``enable_http2:
false`` offers ``http/1.1`` only. Plain ``http`` is always HTTP/1.1 (no h2c, like Go).

Simplified: no cookie jar between redirects, no gzip (the request asks for the
identity encoding, so regular expressions see the body as sent). Options it does
not implement are listed in ``unimplemented_options`` and reported.
"""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from aetherops_plugins.probe.api import ModuleConfigError, failure, success
from aetherops_plugins.probe.net import (
    ProbeFailure,
    Trace,
    check_ip_protocol,
    check_tls_config,
    connect,
    earliest_cert_expiry,
    resolve,
    ssl_context,
    time_limit,
)

IMPLEMENTED = frozenset({
    "valid_status_codes", "valid_http_versions", "preferred_ip_protocol", "ip_protocol_fallback", "no_follow_redirects",
    "follow_redirects", "fail_if_ssl", "fail_if_not_ssl", "method", "headers", "body", "fail_if_body_matches_regexp",
    "fail_if_body_not_matches_regexp", "fail_if_header_matches", "fail_if_header_not_matches", "tls_config", "basic_auth",
    "bearer_token", "bearer_token_file", "bearer_token_env", "enable_http2",
})
UNIMPLEMENTED = frozenset({
    "skip_resolve_phase_with_proxy", "compression", "body_size_limit", "authorization", "oauth2", "proxy_url", "no_proxy",
    "proxy_from_environment", "proxy_connect_header",
    "tls_config.ca", "tls_config.cert", "tls_config.key", "tls_config.min_version", "tls_config.max_version",
    "basic_auth.username_file",
})
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 10
MAX_HEAD = 1 << 20
USER_AGENT = "aetherops-probe/0.1 (blackbox_exporter compatible)"
_CHUNK = 1 << 16
_URL_SAFE = "/%:@!$&'()*+,;=-._~"


class HTTPProber:
    """blackbox_exporter's ``http`` prober."""

    name = "http"
    summary = "HTTP(S) request; success by status, HTTP version, TLS, header and body regular expressions."
    example = {"prober": "http", "timeout": "5s", "http": {
        "valid_status_codes": [200, 204], "method": "GET", "headers": {"Accept": "application/json"},
        "fail_if_not_ssl": True, "fail_if_body_not_matches_regexp": ['"status":\\s*"ok"'],
        "fail_if_header_matches": [{"header": "X-Maintenance", "regexp": "on", "allow_missing": True}],
        "tls_config": {"insecure_skip_verify": False}, "preferred_ip_protocol": "ip4"}}
    known_options = IMPLEMENTED | frozenset(k for k in UNIMPLEMENTED if "." not in k)
    unimplemented_options = UNIMPLEMENTED

    def prepare(self, options: dict) -> dict:
        opts: dict[str, Any] = {}
        opts["protocol"], opts["fallback"] = check_ip_protocol(options)
        codes = options.get("valid_status_codes") or []
        if not isinstance(codes, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes):
            raise ModuleConfigError("valid_status_codes must be a list of integers", key=("valid_status_codes",))
        opts["valid_status_codes"] = frozenset(codes)
        versions = options.get("valid_http_versions") or []
        if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
            raise ModuleConfigError("valid_http_versions must be a list of strings like HTTP/1.1", key=("valid_http_versions",))
        opts["valid_http_versions"] = list(versions)
        method = options.get("method") or "GET"
        if not isinstance(method, str) or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", method):
            raise ModuleConfigError(f"method {method!r} is not a valid HTTP method", key=("method",))
        opts["method"] = method
        headers = options.get("headers") or {}
        if not isinstance(headers, dict):
            raise ModuleConfigError("headers must be a mapping", key=("headers",))
        for name, value in headers.items():
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", str(name)) or "\n" in str(value) or "\r" in str(value):
                raise ModuleConfigError(f"invalid header {name!r}", key=("headers", name))
        opts["headers"] = {str(k): "" if v is None else str(v) for k, v in headers.items()}
        body = options.get("body")
        if body is not None and not isinstance(body, str):
            raise ModuleConfigError("body must be a string", key=("body",))
        opts["body"] = (body or "").encode("utf-8")
        for key in ("fail_if_ssl", "fail_if_not_ssl", "no_follow_redirects", "follow_redirects", "enable_http2"):
            if options.get(key) is not None and not isinstance(options[key], bool):
                raise ModuleConfigError(f"{key} must be true or false", key=(key,))
        follow = options.get("follow_redirects", True)
        if options.get("no_follow_redirects") is not None:  # the pre-0.22 spelling wins, as in blackbox_exporter
            follow = not options["no_follow_redirects"]
        opts["follow_redirects"] = follow
        opts["http2"] = options.get("enable_http2", True) is not False  # the exporter's default: offer h2 over TLS
        opts["fail_if_ssl"] = bool(options.get("fail_if_ssl"))
        opts["fail_if_not_ssl"] = bool(options.get("fail_if_not_ssl"))
        opts["body_match"] = _regexps(options, "fail_if_body_matches_regexp")
        opts["body_not_match"] = _regexps(options, "fail_if_body_not_matches_regexp")
        opts["header_match"] = _header_matchers(options, "fail_if_header_matches")
        opts["header_not_match"] = _header_matchers(options, "fail_if_header_not_matches")
        opts["tls"] = check_tls_config(options.get("tls_config"), ("tls_config",))
        opts["auth"] = _auth(options)
        opts["ssl_contexts"] = {}
        return opts

    async def probe(self, target: str, options: dict, timeout: float) -> dict:
        trace = Trace()
        result: dict[str, Any] = {"phases": trace.phases}
        try:
            async with time_limit(timeout):
                return await _probe(target, options, trace, result)
        except TimeoutError:
            trace.done()
            return failure(f"timed out after {timeout:g}s (during {trace.current})", **_final(result, trace))
        except ProbeFailure as exc:
            trace.done()
            return failure(str(exc), **_final(result, trace))


def _final(result: dict, trace: Trace) -> dict:
    result["phases"] = trace.rounded()
    return result


async def _probe(target: str, opts: dict, trace: Trace, result: dict) -> dict:
    if not target.startswith(("http://", "https://")):
        target = "http://" + target
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        raise ProbeFailure(f"invalid target URL {target!r}: invalid control character in URL")
    try:
        url = urlsplit(target)
        host = url.hostname
        url.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ProbeFailure(f"invalid target URL {target}: {exc}") from None
    if not host:
        raise ProbeFailure(f"invalid target URL {target}: no host")
    trace.start("resolve")
    ip = await resolve(host, opts["protocol"], opts["fallback"])
    trace.done()
    method, body = opts["method"], opts["body"]
    first_netloc = url.netloc
    redirects = 0
    while True:
        response = await _roundtrip(url, ip, method, body, opts, trace, first_netloc, result)
        location = response["headers"].get("location")
        if response["status"] in REDIRECTS and location:
            redirects += 1
            if opts["follow_redirects"] and redirects <= MAX_REDIRECTS:
                try:
                    url = urlsplit(urljoin(url.geturl(), location[0]))
                    url.port  # noqa: B018 - raises ValueError for a bad port
                except ValueError:
                    raise ProbeFailure(f"redirect to an invalid URL {location[0]!r}") from None
                if url.scheme not in ("http", "https") or not url.hostname:
                    raise ProbeFailure(f"redirect to an unsupported URL {location[0]!r}")
                if response["status"] in (301, 302, 303) and method != "HEAD":
                    method, body = "GET", b""
                trace.start("resolve")
                ip = await resolve(url.hostname, "ip6", True)  # Go's own dialer for redirects: any family
                trace.done()
                continue
        break
    result.update(status_code=response["status"], http_version=response["version"], redirects=redirects,
                  tls=response["tls"])
    if response["cert_expiry"] is not None:
        result["tls_earliest_cert_expiry"] = response["cert_expiry"]
    return _judge(response, opts, result, trace)


def _judge(response: dict, opts: dict, result: dict, trace: Trace) -> dict:
    status = response["status"]
    final = _final(result, trace)
    valid = opts["valid_status_codes"]
    if (status not in valid) if valid else not 200 <= status < 300:
        wanted = ", ".join(map(str, sorted(valid))) if valid else "2xx"
        return failure(f"HTTP status {status} (wanted {wanted})", **final)
    headers = response["headers"]
    for name, regexp, allow_missing in opts["header_match"]:
        values = headers.get(name.lower(), [])
        if not values and not allow_missing:
            return failure(f"missing header {name}", failed_due_to_regex=True, **final)
        if any(regexp.search(v) for v in values):
            return failure(f"header {name} matched {regexp.pattern!r}", failed_due_to_regex=True, **final)
    for name, regexp, allow_missing in opts["header_not_match"]:
        values = headers.get(name.lower(), [])
        if not values:
            if allow_missing:
                continue
            return failure(f"missing header {name}", failed_due_to_regex=True, **final)
        if not any(regexp.search(v) for v in values):
            return failure(f"header {name} did not match {regexp.pattern!r}", failed_due_to_regex=True, **final)
    if response["body_error"]:
        return failure(response["body_error"], **final)
    if opts["body_match"] or opts["body_not_match"]:
        text = response["body"].decode("utf-8", "replace")
        for regexp in opts["body_match"]:
            if regexp.search(text):
                return failure(f"body matched {regexp.pattern!r}", failed_due_to_regex=True, **final)
        for regexp in opts["body_not_match"]:
            if not regexp.search(text):
                return failure(f"body did not match {regexp.pattern!r}", failed_due_to_regex=True, **final)
    if opts["valid_http_versions"] and response["version"] not in opts["valid_http_versions"]:
        return failure(f"HTTP version {response['version']} not in valid_http_versions", **final)
    if response["tls"] and opts["fail_if_ssl"]:
        return failure("final request was over TLS (fail_if_ssl)", **final)
    if not response["tls"] and opts["fail_if_not_ssl"]:
        return failure("final request was not over TLS (fail_if_not_ssl)", **final)
    return success(**final)


async def _roundtrip(url, ip: str, method: str, body: bytes, opts: dict, trace: Trace, first_netloc: str,
                     result: dict) -> dict:
    tls = url.scheme == "https"
    port = url.port or (443 if tls else 80)
    context = server_name = None
    if tls:
        # Like blackbox_exporter: tls_config.server_name, else the target's host; none after a redirect elsewhere
        server_name = opts["tls"].get("server_name") if url.netloc == first_netloc else None
        server_name = server_name or url.hostname
        context = _context(opts)
    reader, writer = await connect(ip, port, trace, limit=MAX_HEAD, tls_context=context, server_hostname=server_name)
    try:
        ssl_object = writer.get_extra_info("ssl_object") if tls else None
        cert_expiry = earliest_cert_expiry(ssl_object) if tls else None
        path, headers = _request_head(url, method, body, opts)
        if ssl_object is not None and ssl_object.selected_alpn_protocol() == "h2":
            from aetherops_plugins.probe.h2_client import exchange

            trace.start("processing")
            answer = await exchange(reader, writer, headers["Host"], path, method, headers, body, trace,
                                    keep=lambda status: bool(opts["body_match"] or opts["body_not_match"]) and status not in REDIRECTS)
            return {**answer, "version": "HTTP/2.0", "tls": tls, "cert_expiry": cert_expiry}
        trace.start("processing")
        writer.write(_request(path, headers, method, body))
        await writer.drain()
        status, version, headers = await _read_head(reader, method)
        trace.done()
        trace.start("transfer")
        keep = bool(opts["body_match"] or opts["body_not_match"]) and status not in REDIRECTS
        data, body_error = await _read_body(reader, method, status, headers, keep)
        trace.done()
        return {"status": status, "version": version, "headers": headers, "body": data, "body_error": body_error,
                "tls": tls, "cert_expiry": cert_expiry}
    finally:
        writer.transport.abort()


def _context(opts: dict):
    contexts = opts["ssl_contexts"]
    if "ctx" not in contexts:
        contexts["ctx"] = ssl_context(opts["tls"], alpn=["h2", "http/1.1"] if opts["http2"] else ["http/1.1"])
    return contexts["ctx"]


def _request(path: str, headers: dict[str, str], method: str, body: bytes) -> bytes:
    """The HTTP/1.1 request: line, headers (``Connection: close``: one request per connection), body."""
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Connection: close\r\n\r\n"
    return head.encode("latin-1", "replace") + body


def _request_head(url, method: str, body: bytes, opts: dict) -> tuple[str, dict[str, str]]:
    """The request target (path and query) and headers, ``Host`` first: the same for HTTP/1.1 and HTTP/2."""
    # escaped like Go's URL.RequestURI: what is already valid stays, anything else is percent-encoded
    path = quote(url.path or "/", safe=_URL_SAFE)
    if url.query:
        path += "?" + quote(url.query, safe=_URL_SAFE + "?")
    host = url.netloc.rsplit("@", 1)[-1]
    headers = {"Host": host, "User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    for name, value in opts["headers"].items():
        headers[name.title() if name.lower() == "host" else name] = value
    if opts["auth"]:
        headers.update(_auth_header(opts["auth"]))
    elif url.username is not None:  # like Go's client: user:password@ in the URL is basic auth
        from urllib.parse import unquote

        token = base64.b64encode(f"{unquote(url.username)}:{unquote(url.password or '')}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    if body or method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(body))
    return path, headers


async def _read_head(reader: asyncio.StreamReader, method: str) -> tuple[int, str, dict[str, list[str]]]:
    while True:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            got = "nothing" if not exc.partial else "an incomplete header"
            raise ProbeFailure(f"server closed the connection after sending {got} (EOF before the response)") from None
        except asyncio.LimitOverrunError:
            raise ProbeFailure("response header larger than 1 MiB") from None
        except ConnectionError as exc:
            raise ProbeFailure(f"connection lost while waiting for the response: {exc.strerror or exc}") from None
        lines = raw.decode("latin-1").split("\r\n")
        match = re.fullmatch(r"(HTTP/\d\.\d) (\d{3})(?: .*)?", lines[0])
        if not match:
            raise ProbeFailure(f"malformed HTTP response: {lines[0][:80]!r}")
        version, status = match.group(1), int(match.group(2))
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise ProbeFailure(f"malformed HTTP header line: {line[:80]!r}")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        if 100 <= status < 200 and status != 101:
            continue  # 100 Continue and friends: the real response follows
        return status, version, headers


async def _read_body(reader: asyncio.StreamReader, method: str, status: int, headers: dict, keep: bool) -> tuple[bytes, str | None]:
    """The body (kept only when a regexp needs it) and the reason it is incomplete, if it is."""
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return b"", None
    parts: list[bytes] = []
    try:
        if "chunked" in ",".join(headers.get("transfer-encoding", [])).lower():
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip() or b"x", 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                        pass
                    break
                chunk = await reader.readexactly(size)
                if keep:
                    parts.append(chunk)
                await reader.readexactly(2)
        elif headers.get("content-length"):
            remaining = int(headers["content-length"][0])
            total = remaining
            while remaining > 0:
                chunk = await reader.read(min(remaining, _CHUNK))
                if not chunk:
                    return b"".join(parts), f"server closed the connection mid-response ({total - remaining} of {total} body bytes)"
                remaining -= len(chunk)
                if keep:
                    parts.append(chunk)
        else:
            while True:
                chunk = await reader.read(_CHUNK)
                if not chunk:
                    break
                if keep:
                    parts.append(chunk)
    except asyncio.IncompleteReadError:
        return b"".join(parts), "server closed the connection mid-response (incomplete chunked body)"
    except (ValueError, asyncio.LimitOverrunError):
        return b"".join(parts), "malformed response body framing"
    except ConnectionError as exc:
        return b"".join(parts), f"connection lost while reading the body: {exc.strerror or exc}"
    return b"".join(parts), None


def _regexps(options: dict, key: str) -> list[re.Pattern]:
    values = options.get(key) or []
    if not isinstance(values, list):
        raise ModuleConfigError(f"{key} must be a list of regular expressions", key=(key,))
    return [_compile(value, (key, i)) for i, value in enumerate(values)]


def _compile(value: Any, key: tuple) -> re.Pattern:
    if not isinstance(value, str):
        raise ModuleConfigError(f"{'.'.join(map(str, key))} must be a regular expression string", key=key)
    try:
        return re.compile(value)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ModuleConfigError(f"could not compile regular expression {value!r}: {exc}", key=key) from None


def _header_matchers(options: dict, key: str) -> list[tuple[str, re.Pattern, bool]]:
    specs = options.get(key) or []
    if not isinstance(specs, list):
        raise ModuleConfigError(f"{key} must be a list of {{header, regexp, allow_missing}}", key=(key,))
    out = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict):
            raise ModuleConfigError(f"{key} entries are mappings with header and regexp", key=(key, i))
        unknown = set(spec) - {"header", "regexp", "allow_missing"}
        if unknown:
            raise ModuleConfigError(f"field {sorted(unknown)[0]} not found in a header matcher", key=(key, i, sorted(unknown)[0]))
        if not spec.get("header") or not isinstance(spec["header"], str):
            raise ModuleConfigError("header name must be set for HTTP header matchers", key=(key, i))
        if spec.get("regexp") in (None, ""):
            raise ModuleConfigError("regexp must be set for HTTP header matchers", key=(key, i))
        allow = spec.get("allow_missing", False)
        if not isinstance(allow, bool):
            raise ModuleConfigError("allow_missing must be true or false", key=(key, i, "allow_missing"))
        out.append((spec["header"], _compile(spec["regexp"], (key, i, "regexp")), allow))
    return out


def _auth(options: dict) -> dict:
    """Credentials by reference only: *_file (blackbox_exporter's) or *_env (aetherops'); read at probe time."""
    basic = options.get("basic_auth")
    given = [k for k in ("basic_auth", "bearer_token", "bearer_token_file", "bearer_token_env", "authorization", "oauth2")
             if options.get(k)]
    if len(given) > 1:
        raise ModuleConfigError(f"at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured "
                                f"(found {', '.join(given)})", key=(given[1],))
    if basic:
        if not isinstance(basic, dict):
            raise ModuleConfigError("basic_auth must be a mapping", key=("basic_auth",))
        unknown = set(basic) - {"username", "username_file", "password", "password_file", "password_env"}
        if unknown:
            raise ModuleConfigError(f"field {sorted(unknown)[0]} not found in basic_auth", key=("basic_auth", sorted(unknown)[0]))
        if sum(bool(basic.get(k)) for k in ("password", "password_file", "password_env")) > 1:
            raise ModuleConfigError("at most one of basic_auth password, password_file & password_env must be configured",
                                    key=("basic_auth",))
        return {"kind": "basic", "username": str(basic.get("username") or ""), "password": basic.get("password"),
                "file": basic.get("password_file"), "env": basic.get("password_env")}
    if options.get("bearer_token") or options.get("bearer_token_file") or options.get("bearer_token_env"):
        return {"kind": "bearer", "password": options.get("bearer_token"), "file": options.get("bearer_token_file"),
                "env": options.get("bearer_token_env")}
    return {}


def _auth_header(auth: dict) -> dict[str, str]:
    if not auth:
        return {}
    from aetherops.redact import register_secret

    secret = auth.get("password")
    if auth.get("file"):
        try:
            secret = Path(auth["file"]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ProbeFailure(f"cannot read secret file {auth['file']}: {exc.strerror or exc}") from None
    elif auth.get("env"):
        import os

        secret = os.environ.get(auth["env"])
        if secret is None:
            raise ProbeFailure(f"environment variable {auth['env']} (the probe's credentials) is not set")
    secret = secret or ""
    register_secret(secret)
    if auth["kind"] == "bearer":
        register_secret(f"Bearer {secret}")
        return {"Authorization": f"Bearer {secret}"}
    token = base64.b64encode(f"{auth['username']}:{secret}".encode()).decode("ascii")
    register_secret(token)
    return {"Authorization": f"Basic {token}"}
