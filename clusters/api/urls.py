from rest_framework.routers import DefaultRouter

from clusters.api import views

router = DefaultRouter()
router.register("departments", views.DepartmentViewSet)
router.register("providers", views.ProviderViewSet)
router.register("services", views.ServiceViewSet)
router.register("standards", views.StandardViewSet)
router.register("clusters", views.ClusterViewSet)
router.register("memberships", views.MembershipViewSet)
router.register("alternates", views.AlternateViewSet)
