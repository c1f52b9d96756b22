from django.urls import path

from citydata.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("care/", views.care_mode, name="care"),
]
