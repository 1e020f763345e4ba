from __future__ import annotations

app_name = "protected"
urlpatterns: list = []
