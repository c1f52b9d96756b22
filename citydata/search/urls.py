from django.urls import path

from citydata.search import views

app_name = "search"

urlpatterns = [
    path("manage/search/", views.manage_view, name="manage"),
    path("manage/search/synonyms/<int:pk>/", views.synonym_edit_view, name="synonym_edit"),
]
