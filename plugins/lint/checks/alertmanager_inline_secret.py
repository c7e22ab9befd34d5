"""`alertmanager/inline-secret`: Secrets (passwords, API keys, tokens, webhook URLs with tokens) come from `*_file`, not inline."""

from __future__ import annotations

from aetherops_plugins.lint.amconfig import (
    ENV_REF,
    NOTIFIERS,
    SECRET_WHEN_URL,
    url_has_secret,
)
from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import kl


class InlineSecret(Check):
    id = "alertmanager/inline-secret"
    severity = "warning"
    kinds = ("alertmanager",)
    summary = "Secrets (passwords, API keys, tokens, webhook URLs with tokens) come from `*_file`, not inline."
    why = "An inline secret ends up in git, in backups and in `/api/v2/status` for anyone who can read Alertmanager."
    example_kind = "alertmanager"
    example_bad = ("route:\n  receiver: pager\nreceivers:\n  - name: pager\n    pagerduty_configs:\n"
                   "      - routing_key: 0123456789abcdef0123456789abcdef\n")
    example_good = ("route:\n  receiver: pager\nreceivers:\n  - name: pager\n    pagerduty_configs:\n"
                    "      - routing_key_file: /etc/alertmanager/secrets/pagerduty\n")

    def check(self, target, project):
        d = target.data
        g = d.get("global") if isinstance(d.get("global"), dict) else {}
        for k in ("smtp_auth_password", "smtp_auth_secret", "slack_api_url", "opsgenie_api_key", "wechat_api_secret", "victorops_api_key"):
            if g.get(k) and not ENV_REF.match(str(g.get(k)).strip()):
                yield self.finding(target, f"global.{k} is inline", line=kl(g, k, 1), hint=f"use {k}_file (or a templated secret mount)")
        for r in d.get("receivers") or []:
            if not isinstance(r, dict):
                continue
            for kind in NOTIFIERS:
                for n in r.get(kind) or []:
                    if not isinstance(n, dict):
                        continue
                    for k, v in n.items():
                        if not v or isinstance(v, (dict, list, bool, int, float)) or ENV_REF.match(str(v).strip()):
                            continue  # ${VAR}/$VAR: a reference the deploy tooling fills in, not an inline secret
                        secret = k in ("auth_password", "auth_secret", "routing_key", "service_key", "user_key", "token", "api_key",
                                       "api_secret", "bot_token") or SECRET_WHEN_URL.get(kind) == k
                        if kind == "victorops_configs" and k == "routing_key":
                            secret = False
                        if kind == "webhook_configs" and k == "url":
                            secret = url_has_secret(str(v))
                        if secret:
                            yield self.finding(target, f"{kind[:-1]} {k} of receiver {r.get('name')!r} is inline", line=kl(n, k, None),
                                               name=str(r.get("name") or ""), hint=f"use {k}_file" if k + "_file" in NOTIFIERS[kind]
                                               else "keep it out of the file: render it at deploy time from a secret store "
                                               "(Alertmanager itself does not expand environment variables)")
                    http = n.get("http_config")
                    if isinstance(http, dict):
                        for key in ("bearer_token", "password"):
                            sub = http if key == "bearer_token" else (http.get("basic_auth") or {})
                            if isinstance(sub, dict) and sub.get(key):
                                yield self.finding(target, f"http_config {key} of receiver {r.get('name')!r} is inline",
                                                   line=kl(sub, key, None), name=str(r.get("name") or ""), hint=f"use {key}_file")
