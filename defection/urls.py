"""Pages of the defection app: give notice in two steps, read, withdraw and list requests."""

from django.urls import path

from defection import views

app_name = "defection"

urlpatterns = [
    path("memberships/<int:pk>/leave/", views.leave, name="leave"),
    path("memberships/<int:pk>/leave/check/", views.leave_check, name="leave-check"),
    path("exit-requests/", views.exit_request_list, name="exit-request-list"),
    path("exit-requests/<int:pk>/", views.exit_request_detail, name="exit-request"),
    path(
        "exit-requests/<int:pk>/withdraw/",
        views.exit_request_withdraw,
        name="exit-request-withdraw",
    ),
]
