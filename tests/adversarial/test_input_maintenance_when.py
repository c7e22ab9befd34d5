"""Hostile ``--for`` / ``--start`` / ``--end`` values (issue 15) and hostile ``restore --uid`` / ``--folder``
selections: a usage error (2) or, for a window that parses, the dead Alertmanager's exit 3; never a
traceback or an internal error."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from aetherops_plugins.maintenance.schedule import WhenError, parse_duration, parse_when, window

from ._invariant import assert_invariant

DEAD = "http://127.0.0.1:9"
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)
WHEN_LIKE = st.one_of(st.text(max_size=40), st.from_regex(r"\+?[0-9.]{0,12}[smhdwx]{0,3}([0-9]{1,6}[smhdw])?", fullmatch=True),
                      st.datetimes().map(lambda d: d.isoformat()), st.sampled_from(["now", "+", "", "Z", "9" * 400 + "d"]))


@given(WHEN_LIKE)
def test_parsers_only_ever_raise_when_error(text):
    for parse in (parse_duration, lambda t: parse_when(t, NOW)):
        try:
            parse(text)
        except WhenError as exc:
            assert "\n" not in str(exc)


@given(WHEN_LIKE, WHEN_LIKE)
def test_windows_are_ordered_and_in_the_future_or_refused(start, end):
    try:
        begins, ends = window(NOW, seconds=None, start=start, end=end)
    except WhenError:
        return
    assert begins < ends and ends > NOW


@given(option=st.sampled_from(["--for", "--start", "--end"]), value=st.one_of(WHEN_LIKE, st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00", "+3650d"])))
def test_hostile_when_options_exit_2_or_3(option, value, profile_factory, aetherops_cli):
    profile_factory("dead", alertmanager={"url": DEAD, "retries": 0, "timeout": 2})
    extra = ["--for", "1h"] if option == "--start" else []
    result = aetherops_cli("-p", "dead", "maintenance", option, value, *extra, "--match", "a=b")
    assert_invariant(result)
    assert result.exit_code in (2, 3), result


# ---------------------------------------------------------------- restore --uid / --folder
_BACKUP = {
    "folders": [{"uid": "apps", "title": "Applications", "parentUid": None, "path": "Applications"},
                {"uid": "pay", "title": "Payments", "parentUid": "apps", "path": "Applications/Payments"},
                {"uid": "loop-a", "title": "A", "parentUid": "loop-b"}, {"uid": "loop-b", "title": "B", "parentUid": "loop-a"}],
    "dashboards": [({"uid": "d1", "folderUid": "pay", "file": "x"}, {"dashboard": {"panels": [{"libraryPanel": {"uid": "lp"}}]}}),
                   ({"uid": "d2", "folderUid": "loop-a", "file": "y"}, {"dashboard": {}}),
                   ({"uid": "d3", "folderUid": "", "file": "z"}, {"dashboard": {}})],
    "library_panels": [{"uid": "lp"}], "datasources": [{"uid": "ds", "name": "n"}], "alert_rules": [], "contact_points": [],
    "has": {"library_panels": True, "datasources": True},
}
NAMES = st.one_of(st.text(max_size=20), st.sampled_from(["apps", "pay", "d1", "d2", "d3", "Applications", "A", "loop-a", ""]))


@given(st.lists(NAMES, max_size=3), st.lists(NAMES, max_size=3))
def test_hostile_selections_are_usage_errors_or_a_consistent_subset(uids, folders):
    import click

    from aetherops_plugins.backup.components.grafana import select_backup

    try:
        chosen = select_backup(_BACKUP, uids, folders)
    except click.BadParameter as exc:
        assert "\n" not in exc.format_message()
        return
    names = {e["uid"] for e, _ in chosen["dashboards"]}
    assert set(uids) <= names and chosen["datasources"] == []
    kept = {f["uid"] for f in chosen["folders"]}
    for entry, _ in chosen["dashboards"]:  # every selected dashboard's folder is restored with it
        assert not entry["folderUid"] or entry["folderUid"] in kept
    assert ("d1" in names) == ([p["uid"] for p in chosen["library_panels"]] == ["lp"])
