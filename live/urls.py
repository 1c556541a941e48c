from django.urls import path

from live import views

urlpatterns = [
    path("battle/", views.battle, name="battle"),
]
