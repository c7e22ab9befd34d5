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
        #: ``name-exists`` (412) on save: in dashboards/errors.go up to 11.x.
        self.name_exists_check = v < (12, 0, 0)
        #: The save response carries ``folderUid`` from 11.
        self.save_returns_folder_uid = v >= (11, 0, 0)
        #: ``/versions`` is ``{"continueToken","versions"}`` from 11.6 (grafana#104556).
        self.versions_wrapped = v >= (11, 6, 0)

    @staticmethod
    @lru_cache(maxsize=16)
    def of(version: str) -> VersionRules:
        return VersionRules(version)
