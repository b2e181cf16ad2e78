"""The OpenAPI descriptions of the error answers every endpoint shares."""

from drf_spectacular.utils import OpenApiResponse

from api.schema import ref


def error_response(description: str) -> OpenApiResponse:
    """An error answer (the `Error` shape) with what it means at this endpoint."""
    return OpenApiResponse(ref("Error"), description=description)


UNAUTHENTICATED = error_response(
    "No valid credentials: `Authorization: Token <token>` or a session."
)
THROTTLED = error_response(
    "Too many failed authentication attempts from this address; see Retry-After."
)
NOT_FOUND = error_response("No such record, or it belongs to a site you are not a member of.")
BAD_REQUEST = error_response(
    "Invalid input: `errors` lists the JSON path and message of every field."
)
COMMON = {401: UNAUTHENTICATED, 429: THROTTLED}
