"""Which folder and object a request names, and what may be uploaded: checked here.

Object keys are built from the identity ID in the session, never from the request: a request
names a folder (`public`, `protected`, `private`) and a file name, nothing more.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

FOLDERS = ("private", "protected", "public")
MAX_UPLOAD_BYTES = 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,99}")
_PATH = re.compile(r"[A-Za-z0-9._ -]+(/[A-Za-z0-9._: -]+)*")


def folder_prefix(folder: str, identity_id: str) -> str:
    """The key prefix of a folder; `private/` is always the identity's own."""
    return f"private/{identity_id}/" if folder == "private" else f"{folder}/"


def folder_named(name: str | None, default: str) -> str:
    """The folder a query names (`?folder=`), or `default` for none or an unknown one."""
    return name if name in FOLDERS else default


class ObjectForm(forms.Form):
    """An object to open: a folder and a name inside it (no `..`, no absolute paths)."""

    folder = forms.ChoiceField(choices=[(folder, folder) for folder in FOLDERS])
    name = forms.CharField(max_length=300)

    error_messages = {"bad_name": "That is not a file name."}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not _PATH.fullmatch(name) or ".." in name.split("/"):
            raise forms.ValidationError(self.error_messages["bad_name"], code="bad_name")
        return name

    def key_for(self, identity_id: str) -> str:
        return folder_prefix(self.cleaned_data["folder"], identity_id) + self.cleaned_data["name"]


class UploadForm(forms.Form):
    """A file for the user's own private folder: a plain name and at most 1 MB."""

    file = forms.FileField()

    error_messages = {
        "bad_name": "Use a plain file name: letters, digits, dot, dash, underscore or space.",
        "too_large": "Files may be at most 1 MB.",
    }

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not _NAME.fullmatch(upload.name or ""):
            raise forms.ValidationError(self.error_messages["bad_name"], code="bad_name")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(self.error_messages["too_large"], code="too_large")
        return upload

    def key_for(self, identity_id: str) -> str:
        return folder_prefix("private", identity_id) + self.cleaned_data["file"].name
