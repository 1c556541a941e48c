from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from arena.views import accounts, api, health, home, leaderboard, rate, reports, staff

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", home.favicon, name="favicon"),
    path("leaderboard/", leaderboard.leaderboard, name="leaderboard"),
    path("bias/", reports.bias, name="bias"),
    path("agreement/", reports.agreement, name="agreement"),
    path("api/leaderboard/", api.leaderboard, name="api-leaderboard"),
    path("api/bias/", api.bias, name="api-bias"),
    path("api/agreement/", api.agreement, name="api-agreement"),
    path("api/sources/", api.sources, name="api-sources"),
    path("rate/", rate.rate, name="rate"),
    path("rate/guidelines/", rate.guidelines, name="rate_guidelines"),
    path("rate/mine/", rate.my_votes, name="rate_mine"),
    path("rate/mine/<int:vote_id>/", rate.my_vote, name="rate_my_vote"),
    path("rate/preferences/", rate.preferences, name="rate_preferences"),
    path("rate/assignments/<int:assignment_id>/vote/", rate.vote, name="rate_vote"),
    path("rate/assignments/<int:assignment_id>/skip/", rate.skip, name="rate_skip"),
    path("rate/<slug:prompt_set>/", rate.rate, name="rate_set"),
    path("staff/raters/", staff.raters, name="staff_raters"),
    path("staff/raters/invite/", staff.invite, name="staff_invite"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("judge/", include("judge.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),
]

if settings.ARENA_BENCH_VIEWS:
    urlpatterns.append(path("bench/bare/", rate.bench_bare, name="bench_bare"))
    urlpatterns.append(path("bench/signed-in/", rate.bench_signed_in, name="bench_signed_in"))
