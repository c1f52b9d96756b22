from django.urls import path

from citydata.quality import views

app_name = "quality"

urlpatterns = [
    path("datasets/<slug:slug>/quality/", views.dataset_quality_view, name="dataset"),
    path("manage/quality/", views.dashboard_view, name="dashboard"),
    path("manage/quality/departments/<str:code>/", views.department_view, name="department"),
    path("manage/quality/runs/", views.runs_view, name="runs"),
    path("manage/quality/runs/<int:pk>/", views.run_view, name="run"),
    path("manage/quality/schedules/", views.schedules_view, name="schedules"),
    path("manage/quality/schedules/<int:pk>/delete/", views.schedule_delete_view, name="schedule_delete"),
    path("manage/quality/tasks/", views.tasks_view, name="tasks"),
    path("manage/quality/tasks/<int:pk>/", views.task_view, name="task"),
]
