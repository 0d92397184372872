"""The signed-call core for the 灵工 SaaS OpenAPI 2.0 gateway. It never imports Prefect."""

from .client import AsyncLingongClient, LingongClient
from .config import LingongSettings
from .errors import (
    ApiError,
    BusinessError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    InputError,
    InvalidRequestError,
    LingongError,
    NotFoundError,
    NotOfferedError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    SignatureError,
    TimestampError,
    TransportError,
)
from .models.base import ModelValidationError
from .money import Money, PositiveMoney, SignedMoney, to_money
from .retry import NO_RETRY, RetryPolicy
from .signing import SignAlgorithm

__all__ = [
    "NO_RETRY",
    "ApiError",
    "AsyncLingongClient",
    "BusinessError",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenError",
    "InputError",
    "InvalidRequestError",
    "LingongClient",
    "LingongError",
    "LingongSettings",
    "ModelValidationError",
    "Money",
    "NotFoundError",
    "NotOfferedError",
    "OutcomeUnknownError",
    "PositiveMoney",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "SignAlgorithm",
    "SignatureError",
    "SignedMoney",
    "TimestampError",
    "TransportError",
    "to_money",
]
