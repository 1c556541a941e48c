from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from arena.views import api, health, home, leaderboard, reports

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("leaderboard/", leaderboard.leaderboard, name="leaderboard"),
    path("bias/", reports.bias, name="bias"),
    path("agreement/", reports.agreement, name="agreement"),
    path("api/leaderboard/", api.leaderboard, name="api-leaderboard"),
    path("api/bias/", api.bias, name="api-bias"),
    path("api/agreement/", api.agreement, name="api-agreement"),
    path("api/sources/", api.sources, name="api-sources"),
    path("judge/", include("judge.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),
]
