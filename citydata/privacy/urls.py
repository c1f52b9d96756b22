from django.urls import path

from citydata.privacy import views

app_name = "privacy"

urlpatterns = [
    path("manage/datasets/<str:slug>/data/v<int:number>/privacy/", views.version_view, name="version"),
    path("manage/datasets/<str:slug>/data/v<int:number>/privacy/mask/", views.mask_view, name="mask"),
    path("manage/datasets/<str:slug>/data/v<int:number>/privacy/risk/", views.risk_view, name="risk"),
    path("manage/datasets/<str:slug>/data/v<int:number>/privacy/proposal/", views.proposal_view, name="proposal"),
    path("manage/datasets/<str:slug>/data/v<int:number>/privacy/override/", views.override_view, name="override"),
    path("manage/privacy/", views.dashboard_view, name="dashboard"),
    path("manage/privacy/tasks/", views.tasks_view, name="tasks"),
    path("manage/privacy/tasks/<int:pk>/resolve/", views.resolve_view, name="resolve"),
]
