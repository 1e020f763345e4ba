from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import services, session

        session.refresher_register(session.FLOW_MANAGED, services.stored_tokens_refresh)
