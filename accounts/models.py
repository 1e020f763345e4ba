"""The user, keyed by the user pool's `sub`, and the row that serialises token refreshes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A site user; `cognito_sub` links it to the user pool (the username there can change)."""

    # Null for users that never came from the pool (e.g. a local superuser); unique otherwise.
    cognito_sub = models.CharField(max_length=64, unique=True, null=True, blank=True)


class TokenRefreshLock(models.Model):
    """Held while one request refreshes a session's tokens, so concurrent requests refresh once."""

    # A database row rather than a cache entry: it works across processes with no extra setup.
    session_key = models.CharField(max_length=64, primary_key=True)
    acquired_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"refresh lock acquired at {self.acquired_at:%H:%M:%S}"
