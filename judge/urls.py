from django.urls import path

from judge import views

app_name = "judge"

urlpatterns = [
    path("runs/", views.run_list, name="run-list"),
    path("runs/new/", views.run_new, name="run-new"),
    path("runs/estimate/", views.run_estimate, name="run-estimate"),
    path("runs/<int:run_id>/", views.run_detail, name="run-detail"),
    path("runs/<int:run_id>/problems/", views.run_problems, name="run-problems"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="run-cancel"),
    path("runs/<int:run_id>/resume/", views.run_resume, name="run-resume"),
    path("runs/<int:run_id>/retry/", views.run_retry, name="run-retry"),
    path("evaluate/", views.evaluation_new, name="evaluation-new"),
    path("evaluations/<int:evaluation_id>/", views.evaluation_detail, name="evaluation-detail"),
]
