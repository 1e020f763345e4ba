from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The site itself (settings, caches, health checks): an app only to connect its signals."""

    name = "config"
    label = "site"

    def ready(self) -> None:
        from config.usercache import connect_signals

        connect_signals()
