"""Pages of the board: the cases, a case (with the vote form) and its decision record."""

from django.urls import path

from governance import views

app_name = "governance"

urlpatterns = [
    path("cases/", views.case_list, name="case-list"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/decision/", views.case_decision, name="case-decision"),
    path("board/alternates/", views.alternate_list, name="alternates"),
    path("board/alternates/<int:pk>/end/", views.alternate_end_view, name="alternate-end"),
]
