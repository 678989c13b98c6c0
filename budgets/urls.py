"""Pages of the money side: a department's budget, a provider's cost pools, the chargeback."""

from django.urls import path

from budgets import views

app_name = "budgets"

urlpatterns = [
    path("departments/<str:code>/budget/", views.department_budget, name="department-budget"),
    path(
        "departments/<str:code>/budget/lines/<int:pk>/",
        views.budget_line_change,
        name="budget-line-change",
    ),
    path("providers/<str:code>/cost-pools/", views.cost_pools, name="cost-pools"),
    path(
        "providers/<str:code>/cost-pools/upload/",
        views.cost_pool_upload,
        name="cost-pool-upload",
    ),
    path(
        "providers/<str:code>/cost-pools/upload/confirm/",
        views.cost_pool_upload_confirm,
        name="cost-pool-upload-confirm",
    ),
    path("chargeback/", views.chargeback, name="chargeback"),
    path("chargeback/runs/<int:pk>/", views.chargeback_run, name="chargeback-run"),
]
