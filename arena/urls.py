from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from arena.views import home

urlpatterns = [
    path("", home.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),
]
