"""The in-memory state and the lookups every resource shares."""

from __future__ import annotations

import copy
import string

from ._common import _UID_ALPHABET


class StoreMixin:
    """All state sits behind one re-entrant lock, ``self._lock``."""

    def reset(self) -> None:
        """Forget all objects, faults and logged requests (configuration is kept)."""
        with self._lock:
            self._next_id = 1  # dashboards and folders share one id sequence, like Grafana's dashboard table
            self._next_version_id = 1
            self._next_ds_id = 1
            self._next_lib_id = 1
            self._next_rule_id = 1
            self._dashboards: dict[int, dict] = {}
            self._dash_uids: dict[str, int] = {}
            self._folders: dict[str, dict] = {}
            self._versions: dict[int, list[dict]] = {}
            self._datasources: dict[int, dict] = {}
            self._library: dict[str, dict] = {}
            self._rules: dict[str, dict] = {}
            self._contact_points: dict[str, dict] = {}
            self._starred: set[str] = set()
            self._lib_connections: dict[str, set[str]] = {}  # library panel uid -> connected dashboard uids
            self._faults: list[dict] = []
            self._log: list[tuple[str, str, int]] = []
            self.database_failing = False

    @property
    def state(self) -> dict:
        """A deep-copied snapshot of everything stored, secrets included (for assertions)."""
        with self._lock:
            return copy.deepcopy(
                {
                    "folders": list(self._folders.values()),
                    "dashboards": list(self._dashboards.values()),
                    "versions": {self._dashboards[i]["uid"]: rows for i, rows in self._versions.items() if i in self._dashboards},
                    "datasources": list(self._datasources.values()),
                    "library_panels": list(self._library.values()),
                    "alert_rules": list(self._rules.values()),
                    "contact_points": list(self._contact_points.values()),
                    "starred": sorted(self._starred),
                }
            )

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """``(method, path_without_query, status)`` per request; status 0 for an injected reset."""
        with self._lock:
            return list(self._log)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._log)


    def _new_uid(self, *taken: dict) -> str:
        while True:
            uid = self._rng.choice(string.ascii_lowercase) + "".join(self._rng.choices(_UID_ALPHABET, k=8))
            if uid in self._folders or uid in self._dash_uids or any(uid in t for t in taken):
                continue
            return uid

    def _dash_by_uid(self, uid: str) -> dict | None:
        dash_id = self._dash_uids.get(uid)
        return self._dashboards.get(dash_id) if dash_id is not None else None

    def _folder_by_id(self, folder_id: int) -> dict | None:
        for folder in self._folders.values():
            if folder["id"] == folder_id:
                return folder
        return None

