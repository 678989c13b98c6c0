from django.urls import path

from servicelevels import views

app_name = "servicelevels"

urlpatterns = [
    path("providers/<str:code>/scorecard/", views.scorecard, name="scorecard"),
    path("providers/<str:code>/returns/upload/", views.returns_upload, name="returns-upload"),
    path(
        "providers/<str:code>/returns/upload/confirm/",
        views.returns_upload_confirm,
        name="returns-upload-confirm",
    ),
    path(
        "departments/<str:code>/service-levels/",
        views.department_service_levels,
        name="department-service-levels",
    ),
    path(
        "departments/<str:code>/in-house-estimates/new/",
        views.in_house_estimate_new,
        name="in-house-estimate-new",
    ),
    path("clusters/<str:code>/performance/", views.cluster_performance, name="cluster-performance"),
    path("overview/", views.overview, name="overview"),
]
