from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "citydata.catalog"
    label = "catalog"
    verbose_name = _("数据目录")
