"""The inbox: every email or SMS the local user pool would send lands here instead."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Message:
    """One email or SMS, as the user would have received it."""

    to: str
    kind: str  # e.g. "signup", "forgot_password", "mfa", "attribute_verification"
    subject: str
    body: str
    code: str | None
    time: float

    def to_json(self) -> dict[str, object]:
        """The message as the inbox JSON lists it."""
        return asdict(self)


class Inbox:
    """A thread-safe list of messages, newest last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Message] = []

    def send(
        self, *, to: str, kind: str, subject: str, body: str, code: str | None = None
    ) -> Message:
        """Deliver a message (the local stand-in for SES or SNS)."""
        message = Message(to=to, kind=kind, subject=subject, body=body, code=code, time=time.time())
        with self._lock:
            self._messages.append(message)
        return message

    def messages(self, *, to: str | None = None) -> list[Message]:
        """A copy of the messages, all or only those to one address."""
        with self._lock:
            return [m for m in self._messages if to is None or m.to == to]

    def clear(self) -> None:
        """Forget every message."""
        with self._lock:
            self._messages.clear()

    def __iter__(self) -> Iterator[Message]:
        return iter(self.messages())

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)
