"""The one invariant every hostile input must keep (shared by the adversarial tests)."""

from __future__ import annotations

#: the documented exit codes (docs/exit-codes.md): never 70 (internal error) for bad input
DOCUMENTED = {0, 1, 2, 3, 4, 130}


def assert_invariant(result) -> None:
    """Exit code documented, at most one line on stderr, no traceback, no internal error."""
    assert result.exit_code in DOCUMENTED, result
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result
    assert "internal error" not in result.stderr, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("aetherops: error")]
    assert len(errors) <= 1, result
    if result.exit_code not in (0, 1) and not result.stdout.strip():  # a failure with no report says why, in one line
        assert len(errors) == 1 or result.stderr.startswith("Usage:"), result
