from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import services, session
        from accounts.backends import connect_signals

        connect_signals()
        session.refresher_register(session.FLOW_MANAGED, services.stored_tokens_refresh)
