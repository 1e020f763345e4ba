"""The user, keyed by the user pool's `sub`, and the row that serialises token refreshes."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac


class User(AbstractUser):
    """A site user; `cognito_sub` links it to the user pool (the username there can change)."""

    # Null for users that never came from the pool (e.g. a local superuser); unique otherwise.
    cognito_sub = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # Set by "sign out everywhere": every session signed in before it stops being valid.
    signed_out_everywhere_at = models.DateTimeField(null=True, blank=True, editable=False)

    def sessions_end_everywhere(self) -> None:
        """End every session of this user on this site, at its next request."""
        self.signed_out_everywhere_at = timezone.now()
        self.save(update_fields=["signed_out_everywhere_at"])

    def get_session_auth_hash(self) -> str:
        """Django's session hash, which also changes when the user signs out everywhere.

        Django checks this hash against the one each session stored at sign-in and flushes a
        session whose hash no longer matches (as after a password change): one write here ends
        every other session of the user, whatever the session backend, with no list of session
        keys to keep in step.
        """
        return self._signed_out_hash(secret=None) or super().get_session_auth_hash()

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        if self.signed_out_everywhere_at is None:
            yield from super().get_session_auth_fallback_hash()
            return
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._signed_out_hash(secret=secret)

    def _signed_out_hash(self, *, secret: str | None) -> str:
        if self.signed_out_everywhere_at is None:
            return ""  # never signed out everywhere: Django's own hash, so no session ends
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.signed_out_everywhere_at.isoformat()}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class TokenRefreshLock(models.Model):
    """Held while one request refreshes a session's tokens, so concurrent requests refresh once."""

    # A database row rather than a cache entry: it works across processes with no extra setup.
    session_key = models.CharField(max_length=64, primary_key=True)
    acquired_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"refresh lock acquired at {self.acquired_at:%H:%M:%S}"
