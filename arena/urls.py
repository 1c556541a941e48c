from django.conf import settings
from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.urls import URLPattern, include, path

from arena.views import (
    accounts,
    api,
    evaluation_api,
    evaluations,
    health,
    home,
    leaderboard,
    prompt_sets,
    rate,
    reports,
    staff,
)

# Password reset needs e-mail: without EMAIL_HOST its pages are not served at all (404).
PASSWORD_RESET_VIEWS = {
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
account_urls = [
    pattern
    for pattern in auth_urls.urlpatterns
    if settings.ARENA_PASSWORD_RESET
    or not (isinstance(pattern, URLPattern) and pattern.name in PASSWORD_RESET_VIEWS)
]

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
    # The numbers evaluators publish (MT-Bench, AlpacaEval, Arena-Hard), the judges table, the comparisons.
    path("scores/", evaluations.scores, name="scores"),
    path("winrate/", evaluations.winrate, name="winrate"),
    path("grades/", evaluations.grades, name="grades"),
    path("judges/", evaluations.judges, name="judges"),
    path("comparisons/", evaluations.comparisons, name="comparisons"),
    path("api/scores/", evaluation_api.scores, name="api-scores"),
    path("api/winrate/", evaluation_api.winrate, name="api-winrate"),
    path("api/grades/", evaluation_api.grades, name="api-grades"),
    path("api/judges/", evaluation_api.judges, name="api-judges"),
    path("prompt-sets/", prompt_sets.prompt_sets, name="prompt_sets"),
    path("prompt-sets/<slug:prompt_set>/", prompt_sets.prompt_set, name="prompt_set"),
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
    path("staff/raters/invites/<int:invite_id>/revoke/", staff.invite_revoke, name="staff_invite_revoke"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/login/", accounts.ThrottledLoginView.as_view(), name="login"),
    path("judge/", include("judge.urls")),
    path("", include("live.urls")),
    path("accounts/", include(account_urls)),
    path(settings.ADMIN_PATH, admin.site.urls),
]

if settings.ARENA_BENCH_VIEWS:  # the floors benchmarks/bench_vote.py measures against; off in normal runs
    urlpatterns.append(path("bench/", include("benchmarks.urls")))

# 403 and 404 are Django's handlers with the site's templates (templates/403.html, 404.html).
handler500 = "arena.views.errors.server_error"
