from django.urls import path

from citydata.engagement import manage_views, views

app_name = "engagement"

urlpatterns = [
    path("datasets/<str:slug>/feedback/comments/", views.comments_view, name="comments"),
    path("datasets/<str:slug>/feedback/rating/", views.rating_view, name="rating"),
    path("datasets/<str:slug>/feedback/reports/", views.reports_view, name="reports"),
    path("datasets/<str:slug>/feedback/reports/new/", views.report_new_view, name="report_new"),
    path("datasets/<str:slug>/feedback/reports/<int:pk>/", views.report_detail_view, name="report_detail"),
    path("datasets/<str:slug>/feedback/reports/<int:pk>/answer/", views.report_answer_view, name="report_answer"),
    path("datasets/<str:slug>/feedback/reports/<int:pk>/resolve/", views.report_resolve_view, name="report_resolve"),
    path("datasets/<str:slug>/feedback/complaint/", views.complaint_new_view, name="complaint_new"),
    path("complaints/<str:token>/", views.complaint_detail_view, name="complaint_detail"),
    path("complaints/<str:token>/take-down/", views.complaint_take_down_view, name="complaint_take_down"),
    path("complaints/<str:token>/resolve/", views.complaint_resolve_view, name="complaint_resolve"),
    path("requests/", views.requests_view, name="requests"),
    path("requests/new/", views.request_new_view, name="request_new"),
    path("requests/<int:pk>/", views.request_detail_view, name="request_detail"),
    path(
        "requests/<int:pk>/<str:action>/",
        views.request_act_view,
        name="request_act",
    ),
    path("suggestions/", views.suggestions_view, name="suggestions"),
    path("suggestions/<int:pk>/", views.suggestion_detail_view, name="suggestion_detail"),
    path("manage/feedback/", manage_views.dashboard_view, name="dashboard"),
    path("manage/feedback/backlog/", manage_views.backlog_view, name="backlog"),
    path("manage/feedback/moderation/", manage_views.moderation_mode_view, name="moderation_mode"),
    path("manage/feedback/comments/<int:pk>/approve/", manage_views.comment_approve_view, name="comment_approve"),
    path("manage/feedback/comments/<int:pk>/reply/", manage_views.comment_reply_view, name="comment_reply"),
    path("manage/feedback/<str:kind>/<int:pk>/hide/", manage_views.hide_view, name="hide"),
    path("manage/feedback/<str:kind>/", manage_views.inbox_view, name="inbox"),
]
