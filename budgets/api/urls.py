from rest_framework.routers import DefaultRouter

from budgets.api import views

router = DefaultRouter()
router.register("budget-lines", views.BudgetLineViewSet)
router.register("cost-pools", views.CostPoolViewSet)
router.register("charges", views.ChargeViewSet)
router.register("chargeback-runs", views.ChargebackRunViewSet)
router.register("in-house-estimates", views.InHouseEstimateViewSet)
