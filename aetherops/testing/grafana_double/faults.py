"""Fault injection: fail chosen requests with a status or a connection reset."""

from __future__ import annotations


class FaultsMixin:
    """Faults apply before auth, in the order they were injected."""

    def inject_fault(self, path_prefix: str, status: int = 503, count: int | None = 1, method: str | None = None, reset: bool = False) -> None:
        """Fail the next ``count`` requests whose path starts with ``path_prefix``.

        They get ``status`` with a JSON error body, or with ``reset=True`` the connection is
        closed without a response. ``method`` restricts the match (``"GET"``...);
        ``count=None`` keeps failing until :meth:`clear_faults`. Faults apply before auth.
        """
        with self._lock:
            self._faults.append(
                {"prefix": path_prefix, "status": status, "remaining": count, "method": method.upper() if method else None, "reset": reset}
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> dict | None:
        with self._lock:
            for fault in self._faults:
                if fault["remaining"] is not None and fault["remaining"] <= 0:
                    continue
                if fault["method"] and fault["method"] != method:
                    continue
                if not path.startswith(fault["prefix"]):
                    continue
                if fault["remaining"] is not None:
                    fault["remaining"] -= 1
                return fault
        return None
