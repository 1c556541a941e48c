from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from arena.views import health, home

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),
]
