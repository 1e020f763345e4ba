"""The accounts tests' faulty endpoint: now tests/faulty_aws.py, serving every service."""

from __future__ import annotations

from tests.faulty_aws import FaultyAws as FaultyCognito
from tests.faulty_aws import faulty_aws as faulty_cognito

__all__ = ["FaultyCognito", "faulty_cognito"]
