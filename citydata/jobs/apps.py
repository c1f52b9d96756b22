from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "citydata.jobs"
    label = "jobs"
    verbose_name = _("后台任务")

    def ready(self):
        # Register the platform's scheduled jobs.
        from citydata.jobs import tasks  # noqa: F401
