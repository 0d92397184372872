"""项目 — ``client.project``: projects and their confirmation sheets."""

from __future__ import annotations

from typing import TypeVar

from ..models import project as m
from .base import Endpoint, PagedEndpoint, Service

C = TypeVar("C", covariant=True)


class ProjectService(Service[C]):
    """Projects (SFT0701–0704) and the confirmation sheet for a paid batch (SFT0705)."""

    projects = PagedEndpoint("SFT0701", m.ProjectListRequest, m.ProjectListResponse, m.Project)
    detail = Endpoint("SFT0702", m.ProjectDetailRequest, m.ProjectDetailResponse)
    create = Endpoint("SFT0703", m.ProjectCreateRequest, m.ProjectCreateResponse)
    delete = Endpoint("SFT0704", m.ProjectDeleteRequest, m.ProjectDeleteResponse)
    confirm = Endpoint("SFT0705", m.ProjectConfirmRequest, m.ProjectConfirmResponse)
