from django.urls import path

from citydata.workdays import views

app_name = "workdays"

urlpatterns = [
    path("manage/workdays/", views.manage_view, name="manage"),
    path("manage/workdays/overrides/<int:pk>/remove/", views.override_remove_view, name="override_remove"),
    path("manage/workdays/years/confirm/", views.year_confirm_view, name="year_confirm"),
    path("manage/workdays/years/<int:year>/reopen/", views.year_reopen_view, name="year_reopen"),
]
