from django.urls import path

from clusters import views

app_name = "clusters"

urlpatterns = [
    path("departments/", views.department_list, name="department-list"),
    path("departments/<str:code>/", views.department_detail, name="department"),
    path("clusters/", views.cluster_list, name="cluster-list"),
    path("clusters/<str:code>/", views.cluster_detail, name="cluster"),
    path("services/", views.service_list, name="service-list"),
]
