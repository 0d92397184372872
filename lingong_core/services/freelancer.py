"""自由职业者 — ``client.freelancer``: verification, ID photos, bank cards."""

from __future__ import annotations

from typing import TypeVar

from ..models import freelancer as m
from .base import Endpoint, Service

C = TypeVar("C", covariant=True)


class FreelancerService(Service[C]):
    """Onboarding a person: verify (SFT0101), check the card (SFT0202), bind it (SFT0203)."""

    verify = Endpoint("SFT0101", m.VerifyRequest, m.VerifyResponse)
    verify_with_contract = Endpoint("SFT0109", m.VerifyWithContractRequest, m.VerifyWithContractResponse)
    upload_id_photos = Endpoint("SFT0102", m.IdPhotoUploadRequest, m.IdPhotoUploadResponse)
    query = Endpoint("SFT0103", m.FreelancerQueryRequest, m.FreelancerQueryResponse)
    card_bin = Endpoint("SFT0202", m.CardBinRequest, m.CardBinResponse)
    cards = Endpoint("SFT0201", m.CardListRequest, m.CardListResponse)
    bind_card = Endpoint("SFT0203", m.CardBindRequest, m.CardBindResponse)
    unbind_card = Endpoint("SFT0204", m.CardUnbindRequest, m.CardUnbindResponse)
    id_photos = Endpoint("SFT0110", m.IdPhotoRequest, m.IdPhotoResponse)
