"""`alertmanager/inline-secret`: secrets (passwords, API keys, tokens, URLs that carry one) come from `*_file`, not inline."""

from __future__ import annotations

from aetherops_plugins.lint.amconfig import ENV_REF, NOTIFIERS, URL_KEYS, url_has_secret
from aetherops_plugins.lint.api import Check
from aetherops_plugins.lint.checks._common import kl

#: notifier fields that are secrets whatever their value looks like
_SECRET_FIELDS = frozenset({"auth_password", "auth_secret", "routing_key", "service_key", "user_key", "token", "api_key", "api_secret",
                            "bot_token"})


class InlineSecret(Check):
    id = "alertmanager/inline-secret"
    severity = "warning"
    kinds = ("alertmanager",)
    summary = ("Secrets (passwords, API keys, tokens, URLs that carry a token, key or password) come from `*_file`, not inline; "
               "a webhook URL without a token-like part is not a secret.")
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
            v = g.get(k)
            if not v or ENV_REF.match(str(v).strip()) or (k in URL_KEYS and not url_has_secret(str(v))):
                continue
            yield self.finding(target, f"global.{k} is inline" + (" (the URL carries a token)" if k in URL_KEYS else ""),
                               line=kl(g, k, 1), hint=f"use {k}_file (or a templated secret mount)")
        yield from self.http_config(target, g.get("http_config"), "global", None)
        for r in d.get("receivers") or []:
            if not isinstance(r, dict):
                continue
            receiver = str(r.get("name") or "")
            for kind in NOTIFIERS:
                for n in r.get(kind) or []:
                    if not isinstance(n, dict):
                        continue
                    for k, v in n.items():
                        if not v or isinstance(v, (dict, list, bool, int, float)) or ENV_REF.match(str(v).strip()):
                            continue  # ${VAR}/$VAR: a reference the deploy tooling fills in, not an inline secret
                        if k in URL_KEYS:  # a URL is a secret only when it carries a token, key or password
                            if not url_has_secret(str(v)):
                                continue
                            what = f"{kind[:-1]} {k} of receiver {r.get('name')!r} carries a token inline"
                        elif k in _SECRET_FIELDS and not (kind == "victorops_configs" and k == "routing_key"):
                            what = f"{kind[:-1]} {k} of receiver {r.get('name')!r} is inline"
                        else:
                            continue
                        yield self.finding(target, what, line=kl(n, k, None), name=receiver,
                                           hint=f"use {k}_file" if k + "_file" in NOTIFIERS[kind]
                                           else "keep it out of the file: render it at deploy time from a secret store "
                                           "(Alertmanager itself does not expand environment variables)")
                    yield from self.http_config(target, n.get("http_config"), f"receiver {r.get('name')!r}", receiver)

    def http_config(self, target, http, where: str, name):
        if not isinstance(http, dict):
            return
        for sub, key in ((http, "bearer_token"), (http.get("basic_auth"), "password"), (http.get("authorization"), "credentials"),
                         (http.get("oauth2"), "client_secret")):
            if isinstance(sub, dict) and sub.get(key) and not ENV_REF.match(str(sub.get(key)).strip()):
                yield self.finding(target, f"http_config {key} of {where} is inline", line=kl(sub, key, None), name=name,
                                   hint=f"use {key}_file")
