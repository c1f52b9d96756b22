from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "citydata.privacy"
    label = "privacy"
    verbose_name = "个人信息保护"

    def ready(self) -> None:
        from citydata.privacy import rules, tasks  # noqa: F401 - permission rules and the periodic scan
