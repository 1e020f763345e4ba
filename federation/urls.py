from __future__ import annotations

app_name = "federation"
urlpatterns: list = []
