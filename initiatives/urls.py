"""Pages of programmes."""

from django.urls import path

from initiatives import views

app_name = "initiatives"

urlpatterns = [
    path("programmes/", views.programme_list, name="programme-list"),
    # Before the programme's own address: "new" is not a programme's code (see the form).
    path("programmes/new/", views.programme_new, name="programme-new"),
    path("programmes/<str:code>/", views.programme_detail, name="programme"),
    path(
        "programmes/<str:code>/answers/<str:department>/",
        views.commitment_answer,
        name="commitment-answer",
    ),
]
