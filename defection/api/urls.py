from rest_framework.routers import DefaultRouter

from defection.api import views

router = DefaultRouter()
router.register("exit-requests", views.ExitRequestViewSet)
