from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clusters import urls as clusters_urls
from sharedsvc import account, health, sso
from sharedsvc import two_factor_views as two_factor
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
    path("accounts/login/", two_factor.SignIn.as_view(), name="login"),
    path("accounts/login/code/", two_factor.SignInCode.as_view(), name="sign-in-code"),
    path(
        "accounts/login/recovery-code/",
        two_factor.SignInRecoveryCode.as_view(),
        name="sign-in-recovery-code",
    ),
    path(
        "accounts/login/set-up-two-factor/",
        two_factor.SignInSetUp.as_view(),
        name="sign-in-set-up",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/sso/start/", sso.SsoStart.as_view(), name="sso-start"),
    path("accounts/sso/callback/", sso.SsoCallback.as_view(), name="sso-callback"),
    path("accounts/no-role/", sso.no_role, name="no-role"),
    path("accounts/", account.account, name="account"),
    path("accounts/password/", account.ChangePassword.as_view(), name="password-change"),
    path(
        "accounts/sign-out-everywhere/",
        account.sign_out_everywhere,
        name="sign-out-everywhere",
    ),
    path("accounts/session/", account.stay_signed_in, name="stay-signed-in"),
    path("accounts/tokens/", account.api_tokens, name="api-tokens"),
    path("accounts/tokens/revoke/", account.api_token_revoke_view, name="api-token-revoke"),
    path(
        "accounts/tokens/revoke-all/",
        account.api_tokens_revoke_all_view,
        name="api-tokens-revoke-all",
    ),
    path(
        "accounts/two-factor/set-up/", two_factor.TwoFactorSetUp.as_view(), name="two-factor-set-up"
    ),
    path(
        "accounts/two-factor/recovery-codes/",
        two_factor.recovery_codes_new,
        name="recovery-codes-new",
    ),
    path(
        "accounts/two-factor/turn-off/",
        two_factor.TwoFactorTurnOff.as_view(),
        name="two-factor-turn-off",
    ),
    # Before the admin's own: its sign-in is the site's, in two steps.
    path("admin/login/", two_factor.AdminSignIn.as_view()),
    path("admin/", admin.site.urls),
    path("api/v1/", include("web.api_urls")),
    path("", include((clusters_pages, "clusters"))),
    path("", include("budgets.urls")),
    path("", include("defection.urls")),
    path("", include("governance.urls")),
    path("", include("initiatives.urls")),
    path("", include("initiatives.pilot_urls")),
    path("", include("servicelevels.urls")),
    path("", include("notifications.urls")),
    path("statement/", include("web.statement_views")),
]
