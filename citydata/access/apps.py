from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "citydata.access"
    label = "access"
    verbose_name = "有条件开放"

    def ready(self) -> None:
        from citydata.access import rules, tasks, watermarks  # noqa: F401 - rules, periodic clocks, leak tracing
