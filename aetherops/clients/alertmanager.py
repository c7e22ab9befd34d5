"""Alertmanager v2 API over httpx, built from a profile's ``alertmanager`` section.

High availability: ``alertmanager.urls`` may list every peer of one gossip cluster (``url``, when given
too, comes first). Requests go to the peer that answered last; when it is down, they fail over to the
next one, on the shared :class:`~aetherops.clients.retry.RetryPolicy`:

- a round tries each peer once, starting with the last good one; ``retries: 3`` means up to four rounds,
  with the policy's jittered backoff between rounds (never between peers: a dead peer costs one refused
  connection, not a backoff);
- a peer is skipped for "cannot connect" (nothing was sent: safe for any method, POST too) and, for a
  request that may be repeated (GET, DELETE...), for timeouts, dropped connections and 429/502/503/504;
- any other answer (a 400, a 404, a POST that timed out after sending) is final, as with one peer.

With one URL nothing changes: one :class:`~aetherops.clients.http.HTTPService` with the policy's retries.
Silences are gossiped between peers, alerts are not: :meth:`AlertmanagerClient.post_alerts_everywhere`
posts to every peer, as Prometheus does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aetherops.clients.http import HTTPService
from aetherops.clients.retry import RetryPolicy
from aetherops.errors import ServiceError


def peer_urls(config: Any) -> list[str]:
    """The cluster's peer URLs: ``url`` first, then ``urls`` (duplicates and trailing slashes dropped)."""
    urls = [config.url, *(config.options.get("urls") or [])]
    out: list[str] = []
    for url in urls:
        url = str(url or "").rstrip("/")
        if url and url not in out:
            out.append(url)
    return out


class AlertmanagerClient(HTTPService):
    """The parts of the Alertmanager v2 API aetherops uses, on one Alertmanager or a gossip cluster."""

    def __init__(self, config, **kwargs: Any):
        super().__init__(config, **kwargs)
        urls = peer_urls(config)
        self.peers: list[HTTPService] = [self]
        self._active = 0
        if len(urls) > 1:
            # each peer is tried once per round; the rounds (and their backoff) are the cluster's retries
            single = self.policy.but(retries=0)
            transport = kwargs.get("transport")
            self.peers = [HTTPService(dataclasses.replace(config, url=url), transport=transport, policy=single) for url in urls]

    # -- the cluster
    @property
    def peer_urls(self) -> list[str]:
        return [p.base_url for p in self.peers]

    @property
    def is_cluster(self) -> bool:
        return len(self.peers) > 1

    @property
    def active_url(self) -> str:
        """The peer requests go to now (the last one that answered)."""
        return self.peers[self._active].base_url

    def url(self, path: str) -> str:
        return f"{self.active_url}{path}"

    def close(self) -> None:
        for peer in self.peers:
            if peer is not self:
                peer.close()
        super().close()

    def request(self, method: str, path: str, *, ok=(200,), retry: bool | None = None, **kwargs: Any):
        if not self.is_cluster:
            return super().request(method, path, ok=ok, retry=retry, **kwargs)
        repeatable = self.policy.may_repeat(method, safe=retry)
        rounds = self.policy.attempts(method, safe=retry)
        failures: dict[str, str] = {}
        for attempt in range(1, rounds + 1):
            order = [(self._active + i) % len(self.peers) for i in range(len(self.peers))]
            for index in order:
                try:
                    response = self.peers[index].request(method, path, ok=ok, retry=retry, **kwargs)
                except ServiceError as exc:
                    if not _fail_over(exc, repeatable, self.policy):
                        raise
                    failures[self.peers[index].base_url] = exc.message
                    continue
                self._active = index
                return response
            if attempt < rounds:
                self.policy.wait(attempt)
        tried = "; ".join(failures.values())
        after = f" (after {rounds} rounds)" if rounds > 1 else ""
        raise ServiceError(f"alertmanager {method.upper()} {path}: no peer of the cluster answered{after}: {tried}",
                           url=self.url(path))

    def on_peers(self, method: str, path: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Send one request to every peer: ``[(url, response or ServiceError)]``, in the order of the profile."""
        out: list[tuple[str, Any]] = []
        for peer in self.peers:
            try:
                if peer is self:
                    out.append((peer.base_url, HTTPService.request(self, method, path, **kwargs)))
                else:
                    out.append((peer.base_url, peer.request(method, path, **kwargs)))
            except ServiceError as exc:
                out.append((peer.base_url, exc))
        return out

    # -- the API
    def ready(self) -> bool:
        return self.request("GET", "/-/ready").status_code == 200

    def status(self) -> dict:
        """``/api/v2/status``: version info, cluster, and the running config (YAML in ``config.original``)."""
        return self.get_json("/api/v2/status")

    def silences(self, filters: list[str] | None = None) -> list[dict]:
        params = [("filter", f) for f in filters or []]
        return self.get_json("/api/v2/silences", params=params)

    def silence(self, silence_id: str) -> dict:
        return self.get_json(f"/api/v2/silence/{silence_id}")

    def create_silence(self, silence: dict[str, Any]) -> str:
        """Create (or, with an ``id``, update) a silence; returns its id."""
        return self.request("POST", "/api/v2/silences", json=silence).json()["silenceID"]

    def expire_silence(self, silence_id: str) -> None:
        self.request("DELETE", f"/api/v2/silence/{silence_id}")

    def alerts(self, active: bool = True, *, filters: list[str] | None = None, silenced: bool = True,
               inhibited: bool = True) -> list[dict]:
        params: list[tuple[str, str]] = [("active", str(active).lower()), ("silenced", str(silenced).lower()),
                                         ("inhibited", str(inhibited).lower())]
        params += [("filter", f) for f in filters or []]
        return self.get_json("/api/v2/alerts", params=params)

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """``POST /api/v2/alerts`` (to the active peer; see :meth:`post_alerts_everywhere`)."""
        self.request("POST", "/api/v2/alerts", json=alerts)

    def post_alerts_everywhere(self, alerts: list[dict[str, Any]]) -> list[tuple[str, ServiceError | None]]:
        """Post alerts to every peer, as Prometheus does (alerts are not gossiped): ``[(url, error or None)]``.
        Raises the first error when no peer took them."""
        if not self.is_cluster:
            self.post_alerts(alerts)
            return [(self.base_url, None)]
        results = [(url, outcome if isinstance(outcome, ServiceError) else None)
                   for url, outcome in self.on_peers("POST", "/api/v2/alerts", json=alerts)]
        if all(error is not None for _, error in results):
            raise results[0][1]  # type: ignore[misc]
        return results


def _fail_over(exc: ServiceError, repeatable: bool, policy: RetryPolicy) -> bool:
    """Whether another peer may get the request: nothing was sent ("cannot connect"), or it may be repeated and
    the failure is transient (timeout, dropped connection, a status the retry policy retries: 429/502/503/504)."""
    if exc.status is None:
        return "cannot connect" in exc.message or (repeatable and "TLS error" not in exc.message)
    return repeatable and policy.is_transient_status(exc.status)


__all__ = ["AlertmanagerClient", "peer_urls"]
