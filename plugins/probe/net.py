"""What the built-in probers share: address resolution, TLS settings, certificate expiry, phase timing.

Resolution follows blackbox_exporter's ``chooseProtocol``: ``preferred_ip_protocol``
(``ip6`` by default) with ``ip_protocol_fallback`` (true by default) to the other
family; without fallback only the preferred family counts.
"""

from __future__ import annotations

import asyncio
import calendar
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from aetherops_plugins.probe.api import PHASES, ModuleConfigError

TLS_KEYS = frozenset({"insecure_skip_verify", "ca_file", "cert_file", "key_file", "server_name",
                      "ca", "cert", "key", "min_version", "max_version"})
TLS_UNIMPLEMENTED = ("ca", "cert", "key", "min_version", "max_version")


class ProbeFailure(Exception):
    """A probe failed for a reason worth saying in words (not a bug)."""


@dataclass
class Trace:
    """Phase timings of one probe (ms, summed over redirects), and the phase running now."""

    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    current: str = "resolve"
    _mark: float = field(default_factory=time.perf_counter)

    def start(self, phase: str) -> None:
        self.current = phase
        self._mark = time.perf_counter()

    def done(self, phase: str | None = None) -> None:
        now = time.perf_counter()
        self.phases[phase or self.current] += (now - self._mark) * 1000.0
        self._mark = now

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.phases.items()}


def check_ip_protocol(options: dict) -> tuple[str, bool]:
    """``preferred_ip_protocol`` and ``ip_protocol_fallback`` of a prober section, validated."""
    protocol = options.get("preferred_ip_protocol") or "ip6"
    if protocol not in ("ip4", "ip6"):
        raise ModuleConfigError(f"preferred_ip_protocol must be ip4 or ip6, not {protocol!r}", key=("preferred_ip_protocol",))
    fallback = options.get("ip_protocol_fallback", True)
    if not isinstance(fallback, bool):
        raise ModuleConfigError("ip_protocol_fallback must be true or false", key=("ip_protocol_fallback",))
    return protocol, fallback


async def resolve(host: str, protocol: str = "ip6", fallback: bool = True) -> str:
    """The IP to probe ``host`` at, chosen like blackbox_exporter does; ProbeFailure when there is none."""
    host = host.strip("[]")
    try:
        addresses = [ipaddress.ip_address(host.split("%", 1)[0])]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ProbeFailure(f"cannot resolve {host}: {exc.strerror or exc}") from None
        except UnicodeError:
            raise ProbeFailure(f"cannot resolve {host}: not a valid host name") from None
        addresses = []
        for info in infos:
            ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            if ip not in addresses:
                addresses.append(ip)
    want = 4 if protocol == "ip4" else 6
    for ip in addresses:
        if ip.version == want:
            return str(ip)
    if fallback and addresses:
        return str(addresses[0])
    raise ProbeFailure(f"cannot resolve {host}: no {protocol} address (ip_protocol_fallback is off)")


def check_tls_config(tls: Any, key: tuple) -> dict:
    """A ``tls_config`` mapping, validated (keys, types)."""
    if tls in (None, ""):
        return {}
    if not isinstance(tls, dict):
        raise ModuleConfigError("tls_config must be a mapping", key=key)
    for name, value in tls.items():
        if name not in TLS_KEYS:
            raise ModuleConfigError(f"field {name} not found in tls_config", key=key + (name,))
        if name == "insecure_skip_verify" and not isinstance(value, bool):
            raise ModuleConfigError("insecure_skip_verify must be true or false", key=key + (name,))
        if name != "insecure_skip_verify" and value is not None and not isinstance(value, str):
            raise ModuleConfigError(f"{name} must be a string", key=key + (name,))
    if bool(tls.get("cert_file")) != bool(tls.get("key_file")):
        raise ModuleConfigError("tls_config needs both cert_file and key_file, or neither", key=key)
    return tls


def ssl_context(tls: dict, alpn: list[str] | None = None) -> ssl.SSLContext:
    """An SSLContext for ``tls_config`` (built once per module: loading CA bundles costs milliseconds).

    Like Go's crypto/tls: ``ca_file`` replaces the system roots, ``insecure_skip_verify``
    turns off every check, ``server_name`` is both the SNI and the name verified.
    Raises ProbeFailure when a file cannot be loaded.
    """
    try:
        if tls.get("ca_file"):
            context = ssl.create_default_context(cafile=tls["ca_file"])
        else:
            context = ssl.create_default_context()
        if tls.get("cert_file"):
            context.load_cert_chain(tls["cert_file"], tls.get("key_file"))
    except (OSError, ssl.SSLError) as exc:
        raise ProbeFailure(f"cannot load tls_config files: {getattr(exc, 'strerror', None) or exc}") from None
    if tls.get("insecure_skip_verify"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


def tls_failure(exc: BaseException) -> str:
    """A TLS handshake error in words."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS handshake failed: certificate verify failed: {exc.verify_message or exc.reason}"
    reason = getattr(exc, "reason", None)
    if reason:
        reason = reason.lower().replace("_", " ") + (" (does the port speak TLS?)" if "version" in reason.lower() else "")
    return f"TLS handshake failed: {reason or exc or type(exc).__name__}"


def earliest_cert_expiry(ssl_object: Any) -> float | None:
    """Unix time when the earliest certificate the server presented expires: blackbox_exporter's
    ``probe_ssl_earliest_cert_expiry`` (the minimum ``NotAfter`` over Go's ``PeerCertificates``: the chain as
    sent, leaf and intermediates). Python 3.13 offers it as ``SSLObject.get_unverified_chain()``; 3.10 to 3.12
    have the same method on the C-level object behind it (``_ssl._SSLSocket``, bpo-18233), used then."""
    if ssl_object is None:
        return None
    ders = [der for der in (_der(c) for c in _presented_chain(ssl_object)) if der]
    if not ders:
        leaf = ssl_object.getpeercert(binary_form=True)
        ders = [leaf] if leaf else []
    expiries = [t for t in (cert_not_after(der) for der in ders) if t is not None]
    return min(expiries) if expiries else None


def _presented_chain(ssl_object: Any) -> list:
    method = getattr(ssl_object, "get_unverified_chain", None)
    if method is None:
        method = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    try:
        return list(method() or []) if method is not None else []
    except (ssl.SSLError, ValueError, TypeError):
        return []


def _der(cert: Any) -> bytes | None:
    if isinstance(cert, bytes):
        return cert
    try:
        return cert.public_bytes(_ENCODING_DER)
    except (AttributeError, TypeError, ValueError):
        return None


#: DER encoding for ``Certificate.public_bytes`` (``ssl.ENCODING_DER`` from 3.13 on, ``_ssl``'s before).
_ENCODING_DER = getattr(ssl, "ENCODING_DER", None) or getattr(ssl._ssl, "ENCODING_DER", 2)  # noqa: SLF001


def cert_not_after(der: bytes) -> float | None:
    """``notAfter`` of a DER certificate as unix time (a minimal X.509 walk, no dependency)."""
    try:
        _, cert, _ = _tlv(der, 0)
        _, tbs, _ = _tlv(cert, 0)
        pos = 0
        if tbs[0] == 0xA0:  # [0] EXPLICIT version
            _, _, pos = _tlv(tbs, pos)
        for _ in range(3):  # serialNumber, signature, issuer
            _, _, pos = _tlv(tbs, pos)
        _, validity, _ = _tlv(tbs, pos)
        _, _, after_pos = _tlv(validity, 0)
        tag, value, _ = _tlv(validity, after_pos)
        text = value.decode("ascii").rstrip("Z")
        if tag == 0x17:  # UTCTime YYMMDDHHMMSS
            year = int(text[:2])
            text = f"{2000 + year if year < 50 else 1900 + year}{text[2:]}"
        return float(calendar.timegm(time.strptime(text[:14], "%Y%m%d%H%M%S")))
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    return tag, data[pos:pos + length], pos + length


def split_host_port(hostport: str) -> tuple[str, str]:
    """Go's net.SplitHostPort: ``host:port`` or ``[v6]:port``; ProbeFailure without a port."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or not hostport[end + 1:].startswith(":"):
            raise ProbeFailure(f"address {hostport}: missing port in address")
        return hostport[1:end], hostport[end + 2:]
    if hostport.count(":") != 1:
        raise ProbeFailure(f"address {hostport}: " + ("too many colons in address" if ":" in hostport else "missing port in address"))
    host, port = hostport.split(":")
    return host, port


def parse_port(port: str, what: str) -> int:
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ProbeFailure(f"address {what}: invalid port {port!r}")
    return int(port)


def connect_failure(exc: BaseException, where: str) -> str:
    """A connect error in words (refused, unreachable...)."""
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot connect to {where}: {exc.strerror}"
    return f"cannot connect to {where}: {exc or type(exc).__name__}"


# ---------------------------------------------------------------------- streams (Python 3.10 and 3.11+)
HAS_START_TLS = hasattr(asyncio.StreamWriter, "start_tls")  # 3.11+: a separate TLS phase and STARTTLS


def time_limit(seconds: float):
    """``asyncio.timeout`` (3.11+), or the same behaviour on 3.10: TimeoutError after ``seconds``."""
    if hasattr(asyncio, "timeout"):
        return asyncio.timeout(seconds)
    return _TimeLimit(seconds)


class _TimeLimit:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False

    async def __aenter__(self):
        task = asyncio.current_task()
        self.handle = asyncio.get_running_loop().call_later(self.seconds, self._expire, task)
        return self

    def _expire(self, task) -> None:
        self.expired = True
        task.cancel()

    async def __aexit__(self, exc_type, exc, tb):
        self.handle.cancel()
        if self.expired and exc_type is asyncio.CancelledError:
            raise TimeoutError from None
        return False


async def connect(ip: str, port: int, trace: Trace, *, limit: int, local_addr=None, tls_context: ssl.SSLContext | None = None,
                  server_hostname: str | None = None):
    """Open a stream to ``ip:port`` (phase ``connect``), then the TLS handshake (phase ``tls``) when a context is given.

    On Python 3.10 the handshake is part of the connection and its time counts as ``connect``."""
    where = f"{ip}:{port}" if ":" not in ip else f"[{ip}]:{port}"
    trace.start("connect")
    combined = tls_context is not None and not HAS_START_TLS
    try:
        reader, writer = await asyncio.open_connection(
            ip, port, limit=limit, local_addr=local_addr,
            **({"ssl": tls_context, "server_hostname": server_hostname} if combined else {}))
    except ssl.SSLError as exc:
        raise ProbeFailure(tls_failure(exc)) from None
    except OSError as exc:
        raise ProbeFailure(connect_failure(exc, where)) from None
    trace.done()
    if tls_context is not None and not combined:
        await start_tls(writer, tls_context, server_hostname, trace)
    return reader, writer


async def start_tls(writer: asyncio.StreamWriter, context: ssl.SSLContext, server_hostname: str | None, trace: Trace) -> None:
    """Upgrade an open stream to TLS (phase ``tls``)."""
    if not HAS_START_TLS:
        raise ProbeFailure("STARTTLS needs Python 3.11 or later")
    trace.start("tls")
    try:
        await writer.start_tls(context, server_hostname=server_hostname)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise ProbeFailure(tls_failure(exc)) from None
    trace.done()
