from django.urls import path

from citydata.security import views

app_name = "security"

urlpatterns = [
    path("audit/", views.audit_view, name="audit"),
    path("audit/export.csv", views.audit_export_view, name="audit_export"),
    path("api-calls/", views.api_calls_view, name="api_calls"),
    path("api-calls/export.csv", views.api_calls_export_view, name="api_calls_export"),
]
