from django.apps import AppConfig


class ProtectedConfig(AppConfig):
    name = "protected"
