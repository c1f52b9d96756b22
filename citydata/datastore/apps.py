from django.apps import AppConfig


class DatastoreConfig(AppConfig):
    name = "citydata.datastore"
    label = "datastore"
    verbose_name = "数据存储"

    def ready(self) -> None:
        from citydata.datastore import tasks  # noqa: F401 - registers the periodic cleanup
