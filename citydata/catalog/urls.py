from django.urls import path

from citydata.catalog import views

app_name = "catalog"

urlpatterns = [
    path("datasets/", views.dataset_list, name="dataset_list"),
    path("datasets/<str:slug>/", views.dataset_detail, name="dataset_detail"),
]
