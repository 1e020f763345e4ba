"""Which folder and object a request names, and what may be uploaded: checked here.

Object keys are built from the identity ID in the session, never from the request: a request
names a folder (`public`, `protected`, `private`) and a file name, nothing more.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms

FOLDERS = ("private", "protected", "public")
MAX_UPLOAD_BYTES = 1024 * 1024
MAX_NAME_CHARS = 100
# S3 keys are UTF-8 and at most 1024 bytes; a file name also has to fit most file systems.
MAX_NAME_BYTES = 255


def folder_prefix(folder: str, identity_id: str) -> str:
    """The key prefix of a folder; `private/` is always the identity's own."""
    return f"private/{identity_id}/" if folder == "private" else f"{folder}/"


def folder_named(name: str | None, default: str) -> str:
    """The folder a query names (`?folder=`), or `default` for none or an unknown one."""
    return name if name in FOLDERS else default


_RENAME = "Rename the file and upload it again."


def _unprintable(text: str) -> bool:
    # Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned code
    # points, and line or paragraph separators: nothing a person types, some made to mislead.
    return any(unicodedata.category(char)[0] == "C" or char in "\u2028\u2029" for char in text)


class ObjectForm(forms.Form):
    """An object to act on: a folder and a name inside it (no `..`, no absolute paths)."""

    folder = forms.ChoiceField(choices=[(folder, folder) for folder in FOLDERS])
    name = forms.CharField(max_length=300, strip=False)

    error_messages = {"bad_name": "That is not a file name."}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts) or "\\" in name or _unprintable(name):
            raise forms.ValidationError(self.error_messages["bad_name"], code="bad_name")
        return name

    def key_for(self, identity_id: str) -> str:
        return folder_prefix(self.cleaned_data["folder"], identity_id) + self.cleaned_data["name"]


class UploadForm(forms.Form):
    """A file for the user's own private folder: a safe name in any script, at most 1 MB."""

    file = forms.FileField()

    error_messages = {
        "name_hidden": f"File names may not start with a dot. {_RENAME}",
        "name_separator": f"File names may not contain / or \\. {_RENAME}",
        "name_unprintable": f"That file name holds invisible or control characters. {_RENAME}",
        "name_too_long": f"File names may be at most {MAX_NAME_CHARS} characters. {_RENAME}",
        "too_large": "Files may be at most 1 MB. Choose a smaller file.",
    }

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        # One spelling per name: "é" typed as one code point or as "e" + accent is the same key.
        name = unicodedata.normalize("NFC", upload.name or "")
        if name.startswith("."):
            code = "name_hidden"
        elif "/" in name or "\\" in name:
            code = "name_separator"
        elif _unprintable(name):
            code = "name_unprintable"
        elif len(name) > MAX_NAME_CHARS or len(name.encode()) > MAX_NAME_BYTES:
            code = "name_too_long"
        elif upload.size > MAX_UPLOAD_BYTES:
            code = "too_large"
        else:
            upload.name = name
            return upload
        raise forms.ValidationError(self.error_messages[code], code=code)

    def key_for(self, identity_id: str) -> str:
        return folder_prefix("private", identity_id) + self.cleaned_data["file"].name
