"""The ``tcp`` prober: blackbox_exporter 0.23's tcp module on asyncio streams.

The target is ``host:port``. Connect (with TLS when ``tls: true``), then run
``query_response`` in order: ``expect`` reads lines until one matches (the probe
fails at end of stream), ``send`` writes a line (``${1}`` / ``$name`` expand to
groups of the last ``expect``), ``starttls`` upgrades the connection to TLS.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aetherops_plugins.probe.api import ModuleConfigError, failure, success
from aetherops_plugins.probe.net import (
    ProbeFailure,
    Trace,
    check_ip_protocol,
    check_tls_config,
    connect,
    earliest_cert_expiry,
    parse_port,
    resolve,
    split_host_port,
    ssl_context,
    start_tls,
    time_limit,
)

KNOWN = frozenset({"preferred_ip_protocol", "ip_protocol_fallback", "source_ip_address", "query_response", "tls", "tls_config"})
UNIMPLEMENTED = frozenset({"tls_config.ca", "tls_config.cert", "tls_config.key", "tls_config.min_version",
                           "tls_config.max_version"})
_MAX_LINE = 64 * 1024  # Go's bufio.Scanner limit
_EXPAND = re.compile(r"\$(?:\$|\{(\w+)\}|(\w+))")


class TCPProber:
    """blackbox_exporter's ``tcp`` prober."""

    name = "tcp"
    summary = "TCP connect (optionally TLS), then an expect/send dialogue with STARTTLS."
    example = {"prober": "tcp", "timeout": "5s", "tcp": {
        "preferred_ip_protocol": "ip4", "query_response": [
            {"expect": "^220 "}, {"send": "EHLO prober"}, {"expect": "^250-STARTTLS"}, {"send": "STARTTLS"},
            {"expect": "^220"}, {"starttls": True}, {"send": "QUIT"}]}}
    known_options = KNOWN
    unimplemented_options = UNIMPLEMENTED

    def prepare(self, options: dict) -> dict:
        opts: dict[str, Any] = {}
        opts["protocol"], opts["fallback"] = check_ip_protocol(options)
        if options.get("tls") is not None and not isinstance(options["tls"], bool):
            raise ModuleConfigError("tls must be true or false", key=("tls",))
        opts["tls"] = bool(options.get("tls"))
        opts["tls_config"] = check_tls_config(options.get("tls_config"), ("tls_config",))
        source = options.get("source_ip_address")
        if source not in (None, ""):
            import ipaddress

            try:
                ipaddress.ip_address(str(source))
            except ValueError:
                raise ModuleConfigError(f"source_ip_address {source!r} is not an IP address", key=("source_ip_address",)) from None
        opts["source"] = source or None
        steps = options.get("query_response") or []
        if not isinstance(steps, list):
            raise ModuleConfigError("query_response must be a list of {expect, send, starttls}", key=("query_response",))
        opts["steps"] = []
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                raise ModuleConfigError("query_response entries are mappings (expect, send, starttls)", key=("query_response", i))
            for key in step:
                if key not in ("expect", "send", "starttls"):
                    raise ModuleConfigError(f"field {key} not found in a query_response entry", key=("query_response", i, key))
            expect = step.get("expect")
            regexp = None
            if expect not in (None, ""):
                if not isinstance(expect, str):
                    raise ModuleConfigError("expect must be a regular expression string", key=("query_response", i, "expect"))
                try:
                    regexp = re.compile(expect)
                except (re.error, RecursionError, OverflowError) as exc:
                    raise ModuleConfigError(f"could not compile regular expression {expect!r}: {exc}",
                                            key=("query_response", i, "expect")) from None
            send = step.get("send")
            if send is not None and not isinstance(send, (str, int, float)):
                raise ModuleConfigError("send must be a string", key=("query_response", i, "send"))
            starttls = step.get("starttls", False)
            if not isinstance(starttls, bool):
                raise ModuleConfigError("starttls must be true or false", key=("query_response", i, "starttls"))
            opts["steps"].append((regexp, "" if send is None else str(send), starttls))
        opts["ssl_contexts"] = {}
        return opts

    async def probe(self, target: str, options: dict, timeout: float) -> dict:
        trace = Trace()
        result: dict[str, Any] = {}
        try:
            async with time_limit(timeout):
                return await _probe(target, options, trace, result)
        except TimeoutError:
            trace.done()
            return failure(f"timed out after {timeout:g}s (during {trace.current})", phases=trace.rounded(), **result)
        except ProbeFailure as exc:
            trace.done()
            return failure(str(exc), phases=trace.rounded(), **result)


def _context(opts: dict):
    contexts = opts["ssl_contexts"]
    if "ctx" not in contexts:
        contexts["ctx"] = ssl_context(opts["tls_config"])
    return contexts["ctx"]


async def _probe(target: str, opts: dict, trace: Trace, result: dict) -> dict:
    host, port_text = split_host_port(target)
    port = parse_port(port_text, target)
    trace.start("resolve")
    ip = await resolve(host, opts["protocol"], opts["fallback"])
    trace.done()
    server_name = opts["tls_config"].get("server_name") or host
    reader, writer = await connect(ip, port, trace, limit=_MAX_LINE, local_addr=(opts["source"], 0) if opts["source"] else None,
                                   tls_context=_context(opts) if opts["tls"] else None, server_hostname=server_name)
    try:
        if opts["tls"]:
            _record_tls(writer, result)
        trace.start("processing")
        match: re.Match | None = None
        for i, (regexp, send, starttls) in enumerate(opts["steps"]):
            if regexp is not None:
                match = await _expect(reader, regexp, i)
                send = _expand(send, match)
            if send:
                try:
                    writer.write(send.encode("utf-8") + b"\n")
                    await writer.drain()
                except ConnectionError as exc:
                    raise ProbeFailure(f"query_response[{i}]: failed to send: {exc.strerror or exc}") from None
            if starttls:
                await start_tls(writer, _context(opts), server_name, trace)
                _record_tls(writer, result)
                trace.start("processing")
        trace.done()
        return success(phases=trace.rounded(), **result)
    finally:
        writer.transport.abort()


def _record_tls(writer: asyncio.StreamWriter, result: dict) -> None:
    expiry = earliest_cert_expiry(writer.get_extra_info("ssl_object"))
    if expiry is not None:
        result["tls_earliest_cert_expiry"] = expiry
    result["tls"] = True


async def _expect(reader: asyncio.StreamReader, regexp: re.Pattern, step: int) -> re.Match:
    """Read lines until one matches (Go's bufio.Scanner: ``\\n`` ends a line, a trailing ``\\r`` is dropped)."""
    last = ""
    while True:
        try:
            raw = await reader.readline()
        except ValueError:  # longer than the limit, like bufio.ErrTooLong
            raise ProbeFailure(f"query_response[{step}]: line longer than 64 KiB") from None
        except ConnectionError as exc:
            raise ProbeFailure(f"query_response[{step}]: error reading from connection: {exc.strerror or exc}") from None
        if not raw:
            seen = f" (last line {last[:60]!r})" if last else " (nothing received)"
            raise ProbeFailure(f"query_response[{step}]: expected {regexp.pattern!r} before end of stream{seen}")
        line = raw.rstrip(b"\n")
        if line.endswith(b"\r"):
            line = line[:-1]
        last = line.decode("utf-8", "replace")
        match = regexp.search(last)
        if match is not None:
            return match


def _expand(template: str, match: re.Match | None) -> str:
    """Go's Regexp.Expand: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``; unknown groups expand to nothing."""
    if match is None or "$" not in template:
        return template

    def group(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if name is None:
            return "$"
        try:
            value = match.group(int(name) if name.isdigit() else name)
        except IndexError:  # no such group
            return ""
        return value or ""

    return _EXPAND.sub(group, template)
