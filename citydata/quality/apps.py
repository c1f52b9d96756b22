from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "citydata.quality"
    label = "quality"
    verbose_name = "数据质量"

    def ready(self) -> None:
        from citydata.quality import rules, signals, tasks  # noqa: F401 - permission rules, receivers, periodic jobs
