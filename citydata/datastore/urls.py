from django.urls import path

from citydata.datastore import views

app_name = "datastore"

urlpatterns = [
    path("datasets/<str:slug>/data/", views.data_page, name="data_page"),
    path("datasets/<str:slug>/chart/", views.chart_page, name="chart_page"),
    path("datasets/<str:slug>/sql/", views.sql_page, name="sql_page"),
    path("datasets/<str:slug>/live/", views.live_page, name="live_page"),
    path("manage/datasets/<str:slug>/data/", views.data_view, name="data"),
    path("manage/datasets/<str:slug>/data/v<int:number>/", views.version_view, name="version"),
    path("manage/datasets/<str:slug>/data/v<int:number>/raw/", views.version_raw_view, name="version_raw"),
    path("manage/datasets/<str:slug>/data/v<int:number>/status/", views.version_status_view, name="version_status"),
    path("manage/datasets/<str:slug>/data/v<int:number>/publish/", views.version_publish_view, name="publish"),
    path("manage/datasets/<str:slug>/data/v<int:number>/discard/", views.version_discard_view, name="discard"),
]
