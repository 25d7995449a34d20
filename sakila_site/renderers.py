"""DRF's browsable API under the site's Content-Security-Policy."""

from csp.constants import UNSAFE_INLINE
from rest_framework import renderers

# Two pages of libraries put a <style> element in their HTML: the Swagger UI
# page and DRF's browsable API. They may use inline styles (never inline scripts).
INLINE_STYLES = {"style-src": [UNSAFE_INLINE]}


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, with inline styles allowed on its pages only."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = INLINE_STYLES
        return super().render(data, accepted_media_type, renderer_context)
