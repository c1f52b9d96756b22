from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "citydata.access"
    label = "access"
    verbose_name = "有条件开放"
