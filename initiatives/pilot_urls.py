"""Pages of pilots."""

from django.urls import path

from initiatives import pilot_views

app_name = "pilots"

urlpatterns = [
    path("pilots/", pilot_views.pilot_list, name="pilot-list"),
    path("pilots/new/", pilot_views.pilot_new, name="pilot-new"),
    path("pilots/<str:code>/", pilot_views.pilot_detail, name="pilot"),
]
