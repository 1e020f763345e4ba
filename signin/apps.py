from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "signin"

    def ready(self) -> None:
        from accounts.session import FLOW_API, refresher_register
        from signin.devices import stored_tokens_refresh

        # The foundation's refresh middleware asks the user pools API for this app's sessions.
        refresher_register(FLOW_API, stored_tokens_refresh)
