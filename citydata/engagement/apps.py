from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "citydata.engagement"
    label = "engagement"
    verbose_name = "互动反馈"
