from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from budgets.api.urls import router as budgets_router
from clusters.api.urls import router as clusters_router
from defection.api.urls import router as defection_router
from governance.api.urls import router as governance_router
from initiatives.api.urls import router as initiatives_router
from notifications.api.urls import router as notifications_router
from servicelevels.api.urls import report_urlpatterns
from servicelevels.api.urls import router as servicelevels_router
from sharedsvc.api.docs import SchemaView, api_docs
from sharedsvc.api.views import AuditEventViewSet, not_found

router = DefaultRouter()
router.registry.extend(clusters_router.registry)
router.registry.extend(budgets_router.registry)
router.registry.extend(defection_router.registry)
router.registry.extend(governance_router.registry)
router.registry.extend(initiatives_router.registry)
router.registry.extend(servicelevels_router.registry)
router.registry.extend(notifications_router.registry)
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", api_docs, name="api-docs"),
    path("", include(router.urls)),
    path("reports/", include(report_urlpatterns)),
    path("reports/benefits-statement/", include("web.statement_api")),
    # Anything else under /api/v1/ is a JSON 404, not the HTML page of the browser UI.
    # ([\s\S], not ".", so that a newline in the path is caught too.)
    re_path(r"^(?P<rest>[\s\S]*)$", not_found, name="api-not-found"),
]
