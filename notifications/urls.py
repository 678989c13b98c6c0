"""Pages of notifications: the inbox and the forms that mark them read."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read-all/", views.notifications_read_all, name="read-all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="read"),
]
