from django.urls import path

from live import views

urlpatterns = [
    path("battle/", views.battle, name="battle"),
    path("staff/live-prompts/", views.live_prompts, name="live_prompts"),
]
