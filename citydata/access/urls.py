from django.urls import path

from citydata.access import views

app_name = "access"

urlpatterns = [
    path("applications/", views.mine_view, name="mine"),
    path("applications/new/", views.apply_view, name="apply"),
    path("applications/<str:number>/", views.application_view, name="application"),
    path("applications/<str:number>/edit/", views.edit_view, name="edit"),
    path("applications/<str:number>/act/<str:action>/", views.act_view, name="act"),
    path("applications/<str:number>/attachments/", views.attachment_upload_view, name="attachment_upload"),
    path("applications/<str:number>/attachments/<int:pk>/", views.attachment_view, name="attachment"),
    path("applications/<str:number>/agreement/", views.agreement_view, name="agreement"),
    path("applications/<str:number>/panel/", views.panel_new_view, name="panel_new"),
    path("panels/<int:pk>/", views.panel_view, name="panel"),
    path("manage/panels/new/", views.dispute_panel_view, name="dispute_panel"),
    path("grants/<int:pk>/", views.grant_view, name="grant"),
    path("grants/<int:pk>/act/<str:action>/", views.grant_act_view, name="grant_act"),
    path("workspace/applications/", views.queue_view, name="queue"),
    path("manage/applications/sla/", views.sla_view, name="sla"),
    path("manage/agreements/", views.templates_view, name="templates"),
    path("manage/grants/standing/", views.standing_view, name="standing"),
]
