from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clusters import urls as clusters_urls
from sharedsvc import account, health
from sharedsvc import views as sign_in
from web import views

# The organisation's pages: the catalogue lists from `clusters`, and the department and
# cluster pages, which draw on the apps above it, from here.
clusters_pages = [
    *clusters_urls.urlpatterns,
    path("departments/<str:code>/", views.department_detail, name="department"),
    path("clusters/<str:code>/", views.cluster_detail, name="cluster"),
]

handler500 = "sharedsvc.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            authentication_form=sign_in.SignInForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", account.account, name="account"),
    path("accounts/password/", account.ChangePassword.as_view(), name="password-change"),
    path(
        "accounts/sign-out-everywhere/",
        account.sign_out_everywhere,
        name="sign-out-everywhere",
    ),
    path("accounts/session/", account.stay_signed_in, name="stay-signed-in"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("web.api_urls")),
    path("", include((clusters_pages, "clusters"))),
    path("", include("budgets.urls")),
    path("", include("defection.urls")),
    path("", include("governance.urls")),
    path("", include("servicelevels.urls")),
    path("", include("notifications.urls")),
]
