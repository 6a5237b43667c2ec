from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bench.baseline.models import Confirmation


@csrf_exempt
def confirmation(request: HttpRequest, token: str) -> JsonResponse:
    data = json.loads(request.body)
    Confirmation.objects.create(trans_id=data["TransID"], body=data)
    return JsonResponse({"ResultCode": 0, "ResultDesc": "Accepted"})
