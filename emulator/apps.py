"""The local AWS emulator as a Django app, only so that `manage.py demo` is a command."""

from __future__ import annotations

from django.apps import AppConfig


class EmulatorConfig(AppConfig):
    """Development only: settings add it when DEBUG is on and moto is installed."""

    name = "emulator"
    verbose_name = "Local AWS emulator (development only)"
