"""Fixtures for the emulator's tests."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.server import Emulator

from .api_flows import idp_client


@pytest.fixture
def idp(emulator: Emulator) -> Any:
    """A boto3 cognito-idp client pointed at the emulator."""
    return idp_client(emulator)
