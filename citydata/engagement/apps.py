from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "citydata.engagement"
    label = "engagement"
    verbose_name = "互动反馈"

    def ready(self) -> None:
        from citydata.engagement import rules, tasks  # noqa: F401 - permission rules and the deadline job
