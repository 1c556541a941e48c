from django.apps import AppConfig


class JudgeConfig(AppConfig):
    name = "judge"
    verbose_name = "LLM judges"

    def ready(self) -> None:
        from judge import worker

        worker.connect()
