from django.urls import path
from rest_framework.routers import DefaultRouter

from servicelevels.api import views

router = DefaultRouter()
router.register("measurements", views.MeasurementViewSet)

# Under /api/v1/reports/ (web/api_urls.py): read-only reports, GET only.
report_urlpatterns = [
    path("cluster-costs/", views.ClusterCostsReport.as_view(), name="report-cluster-costs"),
    path("service-levels/", views.ServiceLevelsReport.as_view(), name="report-service-levels"),
    path("self-preference/", views.SelfPreferenceReport.as_view(), name="report-self-preference"),
    path("benefits/", views.BenefitsReport.as_view(), name="report-benefits"),
    path("make-or-buy/", views.MakeOrBuyReport.as_view(), name="report-make-or-buy"),
    path("alternatives/", views.AlternativesReport.as_view(), name="report-alternatives"),
]
