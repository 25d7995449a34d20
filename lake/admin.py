from django.contrib import admin

from lake.models import CrawledTable, PipelineRun, PipelineStep, Watermark


class ReadOnlyAdmin(admin.ModelAdmin):
    """Runs are written by the pipeline only; the admin shows them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PipelineStepInline(admin.TabularInline):
    model = PipelineStep
    fields = ("name", "status", "started_at", "finished_at", "rows", "files_written", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PipelineRun)
class PipelineRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "status", "trigger", "engine", "full", "started_at", "finished_at")
    list_filter = ("status", "trigger", "engine", "full")
    inlines = [PipelineStepInline]


@admin.register(Watermark)
class WatermarkAdmin(ReadOnlyAdmin):
    list_display = ("table", "value", "run", "updated_at")


@admin.register(CrawledTable)
class CrawledTableAdmin(ReadOnlyAdmin):
    list_display = ("name", "schema_version", "last_crawled_at", "location")
