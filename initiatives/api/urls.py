from rest_framework.routers import DefaultRouter

from initiatives.api import views

router = DefaultRouter()
router.register("programmes", views.ProgrammeViewSet)
router.register(
    rf"programmes/(?P<programme_code>{views.PROGRAMME_CODE_PATTERN})/commitments",
    views.CommitmentViewSet,
    basename="programme-commitment",
)
router.register("pilot-plans", views.PilotPlanViewSet)
router.register(
    rf"pilot-plans/(?P<service_code>{views.CODE_PATTERN})/evaluations",
    views.PilotEvaluationViewSet,
    basename="pilot-plan-evaluation",
)
