"""The order notification endpoint; the work is in orders/hooks.py."""

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from integrations.models import Channel
from orders.hooks import SIGNATURE_HEADER, download_request, hook_refusal

log = logging.getLogger("orders.hooks")


@csrf_exempt
@require_POST
@sensitive_variables("header")
def orders_hook(request: HttpRequest, slug: str) -> JsonResponse:
    """Queue an immediate orders download for a correctly signed, fresh notification (403 otherwise)."""
    channel = Channel.objects.filter(slug=slug, enabled=True).first()
    header = request.headers.get(SIGNATURE_HEADER, "")
    # An unknown channel answers like a bad signature: the endpoint does not say which channels exist.
    refusal = (
        "no such enabled channel"
        if channel is None
        else hook_refusal(channel=channel, body=request.body, header=header)
    )
    if refusal:
        log.info("order notification for %s refused: %s", slug, refusal)
        return JsonResponse({"error": "invalid signature"}, status=403)
    return JsonResponse({"queued": download_request(channel=channel)}, status=202)
