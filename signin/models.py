"""What API sign-in keeps between sign-ins: the devices the pool remembers, per browser."""

from __future__ import annotations

import hashlib

from django.db import models


class RememberedDevice(models.Model):
    """A device the pool remembers for one user in one browser (ConfirmDevice).

    The browser holds only a random id in a long-lived cookie; the device's key and its SRP
    password (DEVICE_SRP_AUTH's secret) stay here, so a stolen cookie alone proves nothing.
    """

    browser = models.CharField(max_length=64, db_index=True)
    username = models.CharField(max_length=128)
    device_key = models.CharField(max_length=128, unique=True)
    group_key = models.CharField(max_length=128)
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["browser", "username"], name="one_device_per_browser")
        ]

    def __str__(self) -> str:
        return f"{self.username}: {self.device_key}"  # never the password


class DeviceRefreshToken(models.Model):
    """Which device a refresh token was issued to: its refresh must name the device (DeviceKey).

    Keyed by the token's SHA-256, never the token itself.
    """

    digest = models.CharField(max_length=64, primary_key=True)
    device_key = models.CharField(max_length=128)

    def __str__(self) -> str:
        return self.device_key


def token_digest(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()
