"""项目 — the work payouts are for, and the confirmation sheet that proves it was done (SFT0701–0705).

A project is keyed by ``outProjectNo``; settlement batches may name its ``projectNo``. The
confirmation sheet (项目确认单, SFT0705) ties a settlement batch to the work it paid for.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Self

from pydantic import Field, model_validator

from ..money import Money, PositiveMoney
from ..timeutil import PlatformDate, ShanghaiDateTime
from .base import FieldRuleError, Open, PageRequest, PageResponse, RecordModel, RequestModel, ResponseModel
from .common import BatchNo, OutBatchNo, OutProjectNo, ProjectNo, TaxBaseCode


class ProjectStatus(StrEnum):
    """项目状态: ACTIVE → FINISHED; DELETED."""

    ACTIVE = "ACTIVE"  # 进行中
    FINISHED = "FINISHED"  # 已完成
    DELETED = "DELETED"  # 已删除


class ConfirmStatus(StrEnum):
    """确认单状态: SUBMITTED → CONFIRMED | REJECTED."""

    SUBMITTED = "SUBMITTED"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"


_PROJECT_KEY: tuple[tuple[str, ...], ...] = (("project_no", "out_project_no"),)


class Project(RecordModel):
    project_no: ProjectNo
    out_project_no: OutProjectNo | None = None
    project_name: str | None = Field(None, description="Project name (项目名称)")
    tax_base_code: TaxBaseCode | None = None
    project_type: str | None = Field(None, description="Project type (项目类型), the merchant's own category")
    status: Open[ProjectStatus] = Field(description="Project status (项目状态)")
    description: str | None = Field(None, description="What the work is (项目描述)")
    start_date: PlatformDate | None = Field(None, description="Start date (开始日期)")
    end_date: PlatformDate | None = Field(None, description="End date (结束日期)")
    budget_amount: Money | None = Field(None, description="Budget (项目预算)")
    create_time: ShanghaiDateTime | None = Field(None, description="When it was created (创建时间)")
    delete_time: ShanghaiDateTime | None = Field(None, description="When it was deleted (删除时间)")


# SFT0701 项目列表 --------------------------------------------------------------------------------------


class ProjectListRequest(PageRequest):
    """SFT0701: projects (paged), optionally filtered."""

    tax_base_code: TaxBaseCode | None = None
    status: ProjectStatus | None = Field(None, description="Only projects in this state (项目状态)")
    project_name: str | None = Field(None, description="Projects whose name contains this (项目名称)")


class ProjectListResponse(PageResponse[Project]):
    pass


# SFT0702 项目详情 --------------------------------------------------------------------------------------


class ProjectDetailRequest(RequestModel):
    """SFT0702: one project."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _PROJECT_KEY

    project_no: ProjectNo | None = None
    out_project_no: OutProjectNo | None = None


class ProjectDetailResponse(ResponseModel, Project):
    pass


# SFT0703 项目新增 --------------------------------------------------------------------------------------


class ProjectCreateRequest(RequestModel):
    """SFT0703: create a project."""

    out_project_no: OutProjectNo
    project_name: str = Field(min_length=1, max_length=100, description="Project name (项目名称)")
    tax_base_code: TaxBaseCode
    project_type: str | None = Field(
        None, max_length=64, description="Project type (项目类型), the merchant's own category"
    )
    description: str | None = Field(None, max_length=1000, description="What the work is (项目描述)")
    project_desc: str | None = Field(
        None, max_length=1000, description="What the work is (项目描述), the platform's other name for description"
    )
    start_date: PlatformDate | None = Field(None, description="Start date (开始日期), yyyy-MM-dd")
    end_date: PlatformDate | None = Field(None, description="End date (结束日期), yyyy-MM-dd")
    budget_amount: PositiveMoney | None = Field(None, description="Budget (项目预算)")

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise FieldRuleError("endDate", "must not be before startDate")
        if self.description is not None and self.project_desc is not None and self.description != self.project_desc:
            raise FieldRuleError("projectDesc", "gives a different description: send one of description, projectDesc")
        return self


class ProjectCreateResponse(ResponseModel):
    project_no: ProjectNo
    out_project_no: OutProjectNo
    status: Open[ProjectStatus] = Field(description="Project status (项目状态): ACTIVE")


# SFT0704 项目删除 --------------------------------------------------------------------------------------


class ProjectDeleteRequest(RequestModel):
    """SFT0704: delete a project that no batch names."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _PROJECT_KEY

    project_no: ProjectNo | None = None
    out_project_no: OutProjectNo | None = None


class ProjectDeleteResponse(ResponseModel):
    project_no: ProjectNo
    out_project_no: OutProjectNo | None = None
    status: Open[ProjectStatus] = Field(description="Project status (项目状态): DELETED")


# SFT0705 项目确认单 ------------------------------------------------------------------------------------


class ProjectConfirmRequest(RequestModel):
    """SFT0705: submit the confirmation sheet (项目确认单) for the work a settlement batch paid for."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = (("batch_no", "out_batch_no"),)

    project_no: ProjectNo
    batch_no: BatchNo | None = None
    out_batch_no: OutBatchNo | None = None
    confirm_date: PlatformDate = Field(description="Date the work was accepted (确认日期), yyyy-MM-dd")
    confirm_content: str = Field(
        min_length=1, max_length=2000, description="What was delivered and accepted (确认内容/工作成果)"
    )
    attachment_url: str | None = Field(None, max_length=500, description="Link to supporting files (附件地址)")


class ProjectConfirmResponse(ResponseModel):
    confirm_no: str = Field(description="Confirmation sheet number (确认单编号)")
    project_no: ProjectNo | None = None
    batch_no: BatchNo | None = None
    out_batch_no: OutBatchNo | None = None
    amount: Money | None = Field(None, description="What the batch paid under the project (确认金额)")
    confirm_date: PlatformDate | None = Field(None, description="Date the work was accepted (确认日期)")
    status: Open[ConfirmStatus] = Field(description="Sheet status (确认单状态): SUBMITTED or CONFIRMED")
    confirm_time: ShanghaiDateTime | None = Field(None, description="When the sheet was recorded (确认时间)")


__all__ = [
    "ConfirmStatus",
    "Project",
    "ProjectConfirmRequest",
    "ProjectConfirmResponse",
    "ProjectCreateRequest",
    "ProjectCreateResponse",
    "ProjectDeleteRequest",
    "ProjectDeleteResponse",
    "ProjectDetailRequest",
    "ProjectDetailResponse",
    "ProjectListRequest",
    "ProjectListResponse",
    "ProjectStatus",
]
