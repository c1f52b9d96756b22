from django.urls import path

from citydata.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register_view, name="register"),
    path("register/verify/", views.register_verify_view, name="register_verify"),
    path("password-reset/", views.password_reset_view, name="password_reset"),
    path("password-reset/confirm/", views.password_reset_confirm_view, name="password_reset_confirm"),
    path("home/", views.landing_view, name="landing"),
    path("account/", views.centre_view, name="centre"),
    path("account/profile/", views.profile_update_view, name="profile_update"),
    path("account/real-name/", views.real_name_view, name="real_name"),
    path("account/password/", views.password_change_view, name="password_change"),
    path("account/api-keys/", views.apikey_create_view, name="apikey_create"),
    path("account/api-keys/<str:prefix>/revoke/", views.apikey_revoke_view, name="apikey_revoke"),
    path("account/organisations/", views.organisation_create_view, name="organisation_create"),
    path("account/organisations/<int:pk>/", views.organisation_view, name="organisation"),
    path("workspace/", views.workspace_view, name="workspace"),
    path("console/", views.console_view, name="console"),
    path("manage/departments/<str:code>/", views.department_view, name="department"),
    path("roles/<int:pk>/revoke/", views.role_revoke_view, name="role_revoke"),
    path("duties/<int:pk>/remove/", views.duty_remove_view, name="duty_remove"),
    path("account/memberships/<int:pk>/", views.membership_update_view, name="membership_update"),
    path("account/notifications/", views.notifications_view, name="notifications"),
    path("expert/", views.expert_view, name="expert"),
]
