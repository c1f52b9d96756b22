from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "citydata.search"
    label = "search"
    verbose_name = "搜索"

    def ready(self) -> None:
        from citydata.search import (
            signals,  # noqa: F401 - connects the index to catalog changes
            sources,  # noqa: F401 - registers the built-in document sources
        )
