from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "citydata.access"
    label = "access"
    verbose_name = "有条件开放"

    def ready(self) -> None:
        from citydata.access import rules, tasks  # noqa: F401 - permission rules and the periodic clocks
