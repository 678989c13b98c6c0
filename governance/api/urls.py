from rest_framework.routers import DefaultRouter

from governance.api import views

router = DefaultRouter()
router.register("cases", views.CaseViewSet)
router.register(r"cases/(?P<case_pk>[0-9]+)/votes", views.CaseVoteViewSet, basename="case-vote")
router.register("votes", views.VoteViewSet)
