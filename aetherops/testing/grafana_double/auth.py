"""Authentication, checked before a route reads anything."""

from __future__ import annotations

import base64
import binascii
import hmac

from ._common import DoubleError


class AuthMixin:
    """Bearer token or Basic credentials; one organisation."""

    def _check_auth(self, headers) -> None:
        if self.token is None and self.basic_auth is None:
            return
        legacy = self.rules.legacy_401_bodies

        def unauthorized(message_id: str, message: str, legacy_message: str):
            if legacy:
                return DoubleError(401, {"message": legacy_message})
            return DoubleError(401, {"extra": None, "message": message, "messageId": message_id, "statusCode": 401, "traceID": ""})

        header = headers.get("Authorization", "").strip()
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if not header or not credential:
            raise unauthorized("auth.unauthorized", "Unauthorized", "Unauthorized")
        if scheme.lower() == "bearer":
            if self.token is None or not hmac.compare_digest(credential.encode(), self.token.encode()):
                raise unauthorized("api-key.invalid", "Invalid API key", "invalid API key")
        elif scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credential, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise unauthorized("auth.unauthorized", "Unauthorized", "Unauthorized") from None
            expected = self.basic_auth
            if expected is None or not (
                hmac.compare_digest(user.encode(), expected[0].encode()) and hmac.compare_digest(password.encode(), expected[1].encode())
            ):
                raise unauthorized("password-auth.failed", "Invalid username or password", "invalid username or password")
        else:
            raise unauthorized("auth.unauthorized", "Unauthorized", "Unauthorized")
        org = headers.get("X-Grafana-Org-Id")
        if org is not None and org.strip() != str(self.org_id):
            raise unauthorized("auth.unauthorized", "Unauthorized", "Unauthorized")
