from django.apps import AppConfig


class LakeConfig(AppConfig):
    name = "lake"
    verbose_name = "Data lake"
