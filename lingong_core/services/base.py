"""One definition per endpoint, shared by the sync and the async client.

A service class declares its endpoints as class attributes::

    class RechargeService(Service[C]):
        sync = Endpoint("SFT0404", RechargeSyncRequest, RechargeSyncResponse)

Read through a client's service (``client.recharge.sync``), the :class:`Endpoint` descriptor returns
a bound call: :class:`SyncCall` for :class:`~lingong_core.client.LingongClient`, :class:`AsyncCall`
(awaitable) for :class:`~lingong_core.client.AsyncLingongClient`. Both share the endpoint's
:meth:`Endpoint.build` (request model or keyword fields → validated model; 待开发 → NotOfferedError) and
:meth:`Endpoint.parse` (answer → response model); the only difference is the ``await``.

:class:`PagedEndpoint` adds ``.pages(...)`` and ``.iter(...)`` to walk every page of a paged query.
Every endpoint checks at import that its models are the ones :mod:`lingong_core.models.catalogue` lists.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from typing import Any, Generic, Protocol, Self, TypeVar, overload

from ..errors import NotOfferedError
from ..models.base import PageRequest, PageResponse, RequestModel, ResponseModel
from ..models.catalogue import CATALOGUE, MARKETING_CATALOGUE, ApiSpec

Req = TypeVar("Req", bound=RequestModel)
Resp = TypeVar("Resp", bound=ResponseModel)
PReq = TypeVar("PReq", bound=PageRequest)
PResp = TypeVar("PResp", bound=PageResponse[Any])
Item = TypeVar("Item")
C_co = TypeVar("C_co", covariant=True)

#: Walking pages stops here even if the platform keeps answering (a guard against a looping total).
MAX_PAGES = 100_000


class SyncCaller(Protocol):
    """What a service needs of the synchronous client."""

    def call(
        self, api_code: str, biz: RequestModel, *, request_no: str | None = None, writes: bool | None = None
    ) -> dict[str, Any]: ...

    def verify_notification(self, envelope: Mapping[str, Any]) -> None: ...


class AsyncCaller(Protocol):
    """What a service needs of the asynchronous client."""

    def call(
        self, api_code: str, biz: RequestModel, *, request_no: str | None = None, writes: bool | None = None
    ) -> Awaitable[dict[str, Any]]: ...

    def verify_notification(self, envelope: Mapping[str, Any]) -> None: ...


class Service(Generic[C_co]):
    """Base of the per-group service classes: holds the client, nothing else."""

    def __init__(self, client: C_co) -> None:
        self._client: Any = client
        self._is_async = inspect.iscoroutinefunction(getattr(client, "call", None))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"


class Endpoint(Generic[Req, Resp]):
    """One apiCode with its request and response model."""

    def __init__(self, api_code: str, request: type[Req], response: type[Resp], *, marketing: bool = False) -> None:
        table = MARKETING_CATALOGUE if marketing else CATALOGUE
        entry = table.get(api_code)
        if entry is None or entry.request is not request or entry.response is not response:
            raise TypeError(f"{api_code}: {request.__name__}/{response.__name__} are not the catalogue's models")
        self.spec: ApiSpec = entry
        self.api_code = api_code
        self.request = request
        self.response = response
        self.name = api_code

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = f"{owner.__name__}.{name}"

    def __repr__(self) -> str:
        return f"<endpoint {self.name} {self.api_code} {self.spec.title}>"

    def build(self, request: Req | None, fields: Mapping[str, Any]) -> Req:
        """The validated request: the model given, or one made from keyword fields. Nothing is sent."""
        if not self.spec.operation.offered:
            raise NotOfferedError(f"{self.api_code} {self.spec.operation.title_zh} ({self.spec.operation.title_en})")
        if request is None:
            return self.request(**fields)
        if fields:
            raise TypeError(f"{self.name}: pass a {self.request.__name__} or keyword fields, not both")
        if not isinstance(request, self.request):
            raise TypeError(f"{self.name}: expected {self.request.__name__}, got {type(request).__name__}")
        return request

    def parse(self, answer: Mapping[str, Any]) -> Resp:
        """The answer's flat fields as the response model."""
        return self.response.model_validate(answer)

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: Service[SyncCaller], owner: type | None = None) -> SyncCall[Req, Resp]: ...
    @overload
    def __get__(self, obj: Service[AsyncCaller], owner: type | None = None) -> AsyncCall[Req, Resp]: ...
    def __get__(self, obj: Service[Any] | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return (AsyncCall if obj._is_async else SyncCall)(self, obj._client)


class PagedEndpoint(Endpoint[PReq, PResp], Generic[PReq, PResp, Item]):
    """An endpoint answering pages; ``item`` is the type of the records in ``list``."""

    def __init__(
        self, api_code: str, request: type[PReq], response: type[PResp], item: type[Item], *, marketing: bool = False
    ) -> None:
        super().__init__(api_code, request, response, marketing=marketing)
        if response.model_fields["items"].annotation != list[item]:  # type: ignore[valid-type]
            raise TypeError(f"{api_code}: {response.__name__} is not a page of {item.__name__}")
        self.item = item

    def next_request(self, request: PReq, page: PResp, seen: int) -> PReq | None:
        """The request for the page after ``page``, or None when ``page`` was the last."""
        if not page.items or request.page_no * request.page_size >= page.total or seen >= MAX_PAGES:
            return None
        return request.model_copy(update={"page_no": request.page_no + 1})

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: Service[SyncCaller], owner: type | None = None) -> SyncPagedCall[PReq, PResp, Item]: ...
    @overload
    def __get__(self, obj: Service[AsyncCaller], owner: type | None = None) -> AsyncPagedCall[PReq, PResp, Item]: ...
    def __get__(self, obj: Service[Any] | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return (AsyncPagedCall if obj._is_async else SyncPagedCall)(self, obj._client)


# --------------------------------------------------------------------------------------------------
# Bound calls: the only place where sync and async differ (one `await`).
# --------------------------------------------------------------------------------------------------


class _Bound(Generic[Req, Resp]):
    def __init__(self, endpoint: Endpoint[Req, Resp], client: Any) -> None:
        self.endpoint = endpoint
        self._client = client
        self.__doc__ = endpoint.request.__doc__

    def __repr__(self) -> str:
        return repr(self.endpoint)


class SyncCall(_Bound[Req, Resp]):
    def __call__(self, request: Req | None = None, /, *, request_no: str | None = None, **fields: Any) -> Resp:
        """Send one call: a request model, or its fields as keywords; ``request_no`` to reuse one."""
        model = self.endpoint.build(request, fields)
        return self.endpoint.parse(self._client.call(self.endpoint.api_code, model, request_no=request_no))


class AsyncCall(_Bound[Req, Resp]):
    async def __call__(self, request: Req | None = None, /, *, request_no: str | None = None, **fields: Any) -> Resp:
        """Send one call: a request model, or its fields as keywords; ``request_no`` to reuse one."""
        model = self.endpoint.build(request, fields)
        return self.endpoint.parse(await self._client.call(self.endpoint.api_code, model, request_no=request_no))


class SyncPagedCall(SyncCall[PReq, PResp], Generic[PReq, PResp, Item]):
    def __init__(self, endpoint: PagedEndpoint[PReq, PResp, Item], client: Any) -> None:
        super().__init__(endpoint, client)
        self._paged = endpoint

    def pages(self, request: PReq | None = None, /, **fields: Any) -> Iterator[PResp]:
        """Every page from ``pageNo`` on, one call each."""
        current: PReq | None = self._paged.build(request, fields)
        seen = 0
        while current is not None:
            page = self(current)
            seen += 1
            yield page
            current = self._paged.next_request(current, page, seen)

    def iter(self, request: PReq | None = None, /, **fields: Any) -> Iterator[Item]:
        """Every record of every page."""
        for page in self.pages(request, **fields):
            yield from page.items


class AsyncPagedCall(AsyncCall[PReq, PResp], Generic[PReq, PResp, Item]):
    def __init__(self, endpoint: PagedEndpoint[PReq, PResp, Item], client: Any) -> None:
        super().__init__(endpoint, client)
        self._paged = endpoint

    async def pages(self, request: PReq | None = None, /, **fields: Any) -> AsyncIterator[PResp]:
        """Every page from ``pageNo`` on, one call each."""
        current: PReq | None = self._paged.build(request, fields)
        seen = 0
        while current is not None:
            page = await self(current)
            seen += 1
            yield page
            current = self._paged.next_request(current, page, seen)

    async def iter(self, request: PReq | None = None, /, **fields: Any) -> AsyncIterator[Item]:
        """Every record of every page."""
        async for page in self.pages(request, **fields):
            for item in page.items:
                yield item
