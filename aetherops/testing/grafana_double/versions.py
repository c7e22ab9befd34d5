"""What differs between Grafana 10, 11 and 12: named switches, read in one place.

Routes ask ``self.rules.<switch>`` instead of comparing version tuples, so each
difference is written down once, next to the Grafana source it comes from
(``docs/testing/grafana-api.md``, section "Version differences").
"""

from __future__ import annotations

from functools import lru_cache

from ._common import _version_tuple


class VersionRules:
    """The version-dependent behaviour of one Grafana version (``VersionRules.of("11.2.0")``)."""

    def __init__(self, version: str):
        v = _version_tuple(version)
        self.version = v
        #: 9.x sent ``{"message":"invalid API key"}`` without ``messageId``.
        self.legacy_401_bodies = v < (10, 0, 0)
        #: Before 12 folders sit in the dashboard table: ``GET /api/dashboards/uid/<folder uid>`` answers.
        self.folder_readable_as_dashboard = v < (12, 0, 0)
        #: The save response carries ``folderUid`` from 11.
        self.save_returns_folder_uid = v >= (11, 0, 0)
        #: ``/versions`` is ``{"continueToken","versions"}`` from 11.6 (grafana#104556).
        self.versions_wrapped = v >= (11, 6, 0)
        #: 12 serves dashboards from unified storage: search hits carry ``isDeleted``, ``meta`` carries
        #: ``apiVersion``, v2 dashboards exist and the ``/apis/dashboard.grafana.app`` routes answer.
        self.unified_storage = v >= (12, 0, 0)
        #: Before 12 "name exists" compares slugs and a dashboard may not be named like a folder
        #: (``getExistingDashboardByTitleAndFolder``: ``slug=? AND (is_folder OR folder_id=?)``).
        self.slug_name_checks = v < (12, 0, 0)
        #: Duplicate folder uid on create: 409 before 12, 412 on 12 (the k8s folder API).
        self.duplicate_folder_uid_status = 412 if v >= (12, 0, 0) else 409
        #: 12 refuses dashboards larger than ``max_dashboard_bytes`` with 413 (grafana#101590).
        self.dashboard_size_limit = v >= (12, 0, 0)
        #: The apiVersion legacy (v1) dashboards report on 12, and the one v2 dashboards live under.
        self.v1_api_version = "v1beta1"
        self.v2_api_version = "v2beta1"

    @staticmethod
    @lru_cache(maxsize=16)
    def of(version: str) -> VersionRules:
        return VersionRules(version)
