"""The notes API's data: each note belongs to the caller a bearer token names."""

from __future__ import annotations

from django.db import models

MAX_TEXT_LENGTH = 500


class Note(models.Model):
    """A short note of one caller: `user:<sub>` for people, `client:<client_id>` for machines."""

    owner = models.CharField(max_length=160, db_index=True)
    text = models.CharField(max_length=MAX_TEXT_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"note {self.id} of {self.owner}"

    def as_json(self) -> dict[str, object]:
        """The note as the API answers it (its owner is the caller, so it is not repeated)."""
        return {"id": self.id, "text": self.text, "created_at": self.created_at.isoformat()}
