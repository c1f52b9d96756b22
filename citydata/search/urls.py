from django.urls import path

from citydata.search import views

app_name = "search"

urlpatterns = [
    path("search/suggest/", views.suggest_view, name="suggest"),
    path("search/click/", views.click_view, name="click"),
    path("manage/search/", views.manage_view, name="manage"),
    path("manage/search/synonyms/<int:pk>/", views.synonym_edit_view, name="synonym_edit"),
]
