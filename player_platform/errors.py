"""Domain errors: each carries an HTTP status and a stable machine code.

Services raise these; the HTTP edge turns them into problem+json (RFC 9457). Extra keyword
arguments become extra members of the problem document (e.g. ``until`` on a ban); one named
like a member the document already has is refused when the error is built (it would replace the
problem's own ``status`` or ``code``, or fail the reply with a 500).
"""

from __future__ import annotations

# The problem document's own members (RFC 9457; ``code`` is an argument of its own) and
# ``headers``, which the HTTP edge passes beside the extras. ``errors`` is not reserved: it is
# how a service names the fields at fault, as the edge does for a request that fails validation.
RESERVED_EXTRAS = frozenset({"type", "title", "status", "detail", "instance", "headers"})


class DomainError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(
        self, detail: str, *, code: str | None = None, persist: bool = False, **extra: object
    ) -> None:
        clashes = sorted(RESERVED_EXTRAS & extra.keys())
        if clashes:
            raise TypeError(
                f"{type(self).__name__} extra member(s) {', '.join(clashes)} would replace the"
                " problem document's own; name them after what they are (e.g. item_status)"
            )
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        # The request fails, but what the unit of work did before raising is committed
        # (a failed-login count, a token family revoked on reuse).
        self.persist = persist
        self.extra = extra


class Invalid(DomainError):
    status, code, title = 422, "validation_error", "Unprocessable request"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class InvalidState(DomainError):
    status, code, title = 409, "invalid_state", "Invalid state"


class PaymentRequired(DomainError):
    status, code, title = 402, "payment_required", "Payment required"


class RateLimited(DomainError):
    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(
        self, detail: str, *, retry_after: int, code: str | None = None, persist: bool = False
    ) -> None:
        super().__init__(detail, code=code, persist=persist, retry_after=max(1, retry_after))
        self.retry_after = max(1, retry_after)


class Unavailable(DomainError):
    status, code, title = 503, "unavailable", "Service unavailable"


class Gone(DomainError):
    status, code, title = 410, "gone", "Gone"
