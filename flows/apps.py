from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flows"

    def ready(self) -> None:
        from flows import trace

        trace.hooks_register()  # the foundation's hooks: no flow app depends on this one
