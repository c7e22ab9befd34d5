"""Thin clients for the stack's services, each built from a profile section.

- ``retry``: :class:`~aetherops.clients.retry.RetryPolicy`, the one retry policy (and ``session_adapter`` for
  requests/niquests sessions);
- ``connect``: the TLS context and headers (User-Agent, profile headers, credentials) every client uses;
- ``http``: :class:`~aetherops.clients.http.HTTPService`, an httpx client with the policy and one-line errors;
- ``prometheus``, ``alertmanager``, ``grafana``: one client per service (``GrafanaClient``: typed methods on ``http``);
- ``probe``: readiness and link checks of URLs that are no profile's service.

Import the submodules only where they are used: they import httpx and
prometheus-api-client, which ``aetherops --help`` must not.
"""
