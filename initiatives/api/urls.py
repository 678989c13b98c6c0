from rest_framework.routers import DefaultRouter

from initiatives.api import views

router = DefaultRouter()
router.register("programmes", views.ProgrammeViewSet)
router.register(
    rf"programmes/(?P<programme_code>{views.PROGRAMME_CODE_PATTERN})/commitments",
    views.CommitmentViewSet,
    basename="programme-commitment",
)
