"""The order notification endpoint; the work is in orders/hooks.py."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.models import Channel
from orders.hooks import SIGNATURE_HEADER, download_request, hook_signature_valid


@csrf_exempt
@require_POST
def orders_hook(request: HttpRequest, slug: str) -> JsonResponse:
    """Queue an immediate orders download for a correctly signed notification (403 otherwise)."""
    channel = Channel.objects.filter(slug=slug, enabled=True).first()
    signature = request.headers.get(SIGNATURE_HEADER, "")
    # An unknown channel answers like a bad signature: the endpoint does not say which channels exist.
    if channel is None or not hook_signature_valid(channel=channel, body=request.body, signature=signature):
        return JsonResponse({"error": "invalid signature"}, status=403)
    return JsonResponse({"queued": download_request(channel=channel)}, status=202)
