"""Thin clients for the stack's services, each built from a profile section.

Import the submodules only where they are used: they import httpx,
prometheus-api-client and grafana-client, which ``aetherops --help`` must not.
"""
