"""Pages of programmes."""

from django.urls import path

from initiatives import views

app_name = "initiatives"

urlpatterns = [
    path("programmes/", views.programme_list, name="programme-list"),
    path("programmes/<str:code>/", views.programme_detail, name="programme"),
]
