"""Built-in plugin: ``aetherops alerts`` tests the alert pipeline and shows what fires and what is hidden.

``alerts test`` posts a synthetic alert and shows where the routing tree sends it and whether it is
silenced or inhibited; ``alerts routes`` evaluates the routing tree offline (agreeing with ``amtool config
routes test``); ``alerts list`` shows firing alerts, with an inhibition view that groups suppressed alerts
under the alert that inhibits them. This is the hook module: it imports only click and aetherops; the
engine (routing, engine) is imported inside the command bodies. See docs/alerts.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

import aetherops
from aetherops import pass_context
from aetherops.errors import Findings

if TYPE_CHECKING:  # pragma: no cover
    from aetherops.context import Context


@aetherops.hookimpl
def aetherops_register_commands(cli: click.Group) -> None:
    cli.add_command(alerts)


_LABEL_HELP = 'Alert label NAME=VALUE (or NAME="VALUE"), repeatable: --label alertname=DiskFull --label severity=critical.'


@click.group()
def alerts():
    """Test the alert pipeline and see what fires (Alertmanager).

    \b
    aetherops alerts test --label alertname=X --label severity=critical [--annotation k=v] [--resolve-after 1m]
    aetherops alerts routes --label k=v ... [--config FILE] [--verify-receivers a,b]
    aetherops alerts list [--inhibited] [--silenced]
    """


@alerts.command("routes")
@click.option("--label", "labels", multiple=True, metavar="NAME=VALUE", required=True, help=_LABEL_HELP)
@click.option("--config", "config_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Alertmanager config to evaluate (default: the profile's alertmanager.config_file, else the running "
                   "config from /api/v2/status).")
@click.option("--verify-receivers", metavar="A,B", help="Exit 1 unless the receivers are exactly these, in order "
                                                        "(amtool's --verify.receivers).")
@pass_context
def routes_cmd(ctx: Context, labels, config_file, verify_receivers):
    """Where the routing tree sends an alert with these labels, offline: the matched routes (path from the
    root, matchers, group_by, timings) and their receivers, as `amtool config routes test` does.

    Exit 0, or 1 when --verify-receivers does not match.
    """
    from aetherops_plugins.alerts import engine

    result = engine.routes(ctx, labels, config_file)
    if verify_receivers is not None:
        result["verified"] = ",".join(result["receivers"]) == verify_receivers.strip()

    def text() -> None:
        ctx.output.line(",".join(result["receivers"]))
        for route in result["routes"]:
            steps = " > ".join("{" + ", ".join(step["matchers"]) + "}" if step["matchers"] else step["route"]
                               for step in route["path"])
            ctx.output.line(f"  {route['receiver']}: {steps}")
            ctx.output.line(f"    {route['route']} (line {route['line']})  group_by [{', '.join(route['group_by'])}]  "
                            f"wait {route['group_wait']}  interval {route['group_interval']}  repeat {route['repeat_interval']}"
                            + ("  continue" if route["continue"] else ""))
        if verify_receivers is not None and not result["verified"]:
            ctx.output.line(f"WARNING: expected receivers {verify_receivers.strip()}, got {','.join(result['receivers'])}", fg="red")

    ctx.output.result(result, text)
    if verify_receivers is not None and not result["verified"]:
        raise Findings()


@alerts.command("test")
@click.option("--label", "labels", multiple=True, metavar="NAME=VALUE", required=True, help=_LABEL_HELP)
@click.option("--annotation", "annotations", multiple=True, metavar="NAME=VALUE", help="Annotation, repeatable (summary=...).")
@click.option("--resolve-after", default="5m", show_default=True, metavar="DURATION",
              help="The alert resolves this long after it is posted (its endsAt); 0: resolve as soon as it has been read back.")
@click.option("--wait", is_flag=True, help="Stay until --resolve-after has passed, then post the resolution (Ctrl-C resolves at once).")
@click.option("--generator-url", metavar="URL", help="generatorURL of the alert (default: none).")
@pass_context
def test_cmd(ctx: Context, labels, annotations, resolve_after, wait, generator_url):
    """Post a synthetic alert to Alertmanager and show where it goes.

    Shows the receivers the routing tree sends it to (and the route path), whether it is silenced (by which
    silences) or inhibited (by which firing alert, through which inhibit rule), then resolves it: by its endsAt
    (--resolve-after), at once (--resolve-after 0), or by waiting (--wait).
    """
    from aetherops_plugins.alerts import engine

    try:
        result, interrupted = engine.test_alert(ctx, labels, annotations, resolve_after, wait=wait,
                                                generator_url=generator_url), False
    except engine.WaitInterrupted as exc:  # Ctrl-C ended --wait: the alert is resolved, show where it went
        result, interrupted = exc.result, True

    def text() -> None:
        alert = result["alert"]
        ctx.output.line(f"posted {engine.format_labels(result['labels'])}")
        ctx.output.line(f"  state:     {alert['state']}")
        ctx.output.line(f"  receivers: {', '.join(alert['receivers']) or '(none)'}")
        for route in result["routes"]:
            steps = " > ".join("{" + ", ".join(s["matchers"]) + "}" if s["matchers"] else s["route"] for s in route["path"])
            ctx.output.line(f"    {route['receiver']}: {steps}")
        for silence in alert["silenced_by"]:
            ctx.output.line(f"  silenced by {silence['id']} {silence.get('matchers_text', '')} "
                            f"({silence.get('created_by')}: {silence.get('comment')})", fg="yellow")
        for inhibitor in alert["inhibited_by"]:
            ctx.output.line(f"  inhibited by {inhibitor.get('alertname') or inhibitor['fingerprint']} "
                            f"{engine.format_labels(inhibitor.get('labels') or {})}"
                            + (f" (inhibit_rules[{inhibitor['rule']}])" if inhibitor.get("rule") is not None else ""), fg="yellow")
        ctx.output.line(f"  resolved:  {result['resolution']}")

    ctx.output.result(result, text)
    if interrupted:
        from aetherops.errors import Exit, ExitCode

        raise Exit(ExitCode.INTERRUPTED)


@alerts.command("list")
@click.option("--inhibited", is_flag=True, help="The inhibition view: each root alert with the alerts it hides.")
@click.option("--silenced", is_flag=True, help="Only silenced alerts, with their silences.")
@click.option("--config", "config_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Inhibit rules from this Alertmanager config (default: the running config from /api/v2/status).")
@pass_context
def list_cmd(ctx: Context, inhibited, silenced, config_file):
    """Firing alerts with their state (active, silenced, inhibited).

    --inhibited groups suppressed alerts under the alert that inhibits them (storm control: one root cause and
    what it hides), computed from the config's inhibit_rules (source/target matchers and equal labels).
    """
    from aetherops_plugins.alerts import engine

    result = engine.list_alerts(ctx, inhibited=inhibited, silenced=silenced, config_file=config_file)
    for warning in result["warnings"]:
        ctx.output.warn(warning)

    def text() -> None:
        if inhibited:
            if not result["inhibition"]:
                ctx.output.line("no inhibited alerts")
            for group in result["inhibition"]:
                root = group["root"]
                ctx.output.line(f"{root['alertname']} {engine.format_labels(root['labels'], skip='alertname')}  "
                                f"[{root['state']}] hides {len(group['hides'])}:", bold=True)
                for hidden in group["hides"]:
                    via = f" (via {hidden['via_alertname']})" if hidden.get("via") != root["fingerprint"] else ""
                    rule = f" inhibit_rules[{hidden['rule']}]" if hidden.get("rule") is not None else ""
                    ctx.output.line(f"  - {hidden['alertname']} {engine.format_labels(hidden['labels'], skip='alertname')}{rule}{via}")
            if not silenced:
                return
        rows = [r for r in result["alerts"] if r["silenced_by"]] if silenced else result["alerts"]
        if not rows:
            ctx.output.line("no silenced alerts" if silenced else "no firing alerts")
            return
        ctx.output.table(rows, [("alertname", "ALERT"), ("labels_text", "LABELS"), ("state", "STATE"), ("since", "SINCE"),
                                ("receivers_text", "RECEIVERS"), ("why", "SUPPRESSED BY")],
                         styles={"state": lambda s: {"active": "red", "silenced": "yellow", "inhibited": "cyan"}.get(s)})

    ctx.output.result(result, text)
