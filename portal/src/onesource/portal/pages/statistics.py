"""Sharing statistics for coordinators, as charts drawn on the server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from onesource.portal.charts import Bar, bar_chart
from onesource.portal.web import STATUS_NAMES, GatewayDep, SignedIn, render, require

router = APIRouter(include_in_schema=False)

STATUS_ORDER = ("pending_provider", "pending_confirmation", "granted", "rejected", "disputed", "refused", "upheld")


def charts(statistics: dict[str, Any], calls: dict[str, Any]) -> list[tuple[str, Any]]:
    """The statistics page's charts, from the exchange's ``statistics`` and the audit log's ``calls``.

    Requests by status, time to decision, overdue, grants, delivered events, and data calls through the gateway.
    """
    providers, consumers = statistics.get("providers", []), statistics.get("consumers", [])
    series = [STATUS_NAMES[status] for status in STATUS_ORDER]

    def by_status(parties: list[dict[str, Any]]) -> list[Bar]:
        return [
            Bar(party["department"], [float(party["requests_by_status"].get(status, 0)) for status in STATUS_ORDER])
            for party in parties
        ]

    call_series = ("返回数据", "被拒绝或失败")

    def answered(parties: list[dict[str, Any]]) -> list[Bar]:
        return [
            Bar(party["department"], [float(party["answered"]), float(party["calls"] - party["answered"])])
            for party in parties
        ]

    def single(parties: list[dict[str, Any]], key: str) -> list[Bar]:
        return [Bar(party["department"], [float(party.get(key) or 0)]) for party in parties]

    drawn = [
        ("各提供方收到的申请（按状态）", by_status(providers), series, ""),
        ("各使用方提交的申请（按状态）", by_status(consumers), series, ""),
        ("提供方答复用时（中位数）", single(providers, "median_decision_hours"), ("",), " 小时"),
        ("各提供方逾期的申请", single(providers, "overdue"), ("",), ""),
        ("各提供方的有效授权", single(providers, "active_grants"), ("",), ""),
        ("各使用方收到的变更事件", single(consumers, "events_delivered"), ("",), ""),
        ("各使用方的数据调用（近 30 日）", answered(calls.get("consumers", [])), call_series, ""),
        ("各提供方数据被调用（近 30 日）", answered(calls.get("providers", [])), call_series, ""),
    ]
    return [(title, bar_chart(title, bars, names, unit)) for title, bars, names, unit in drawn]


@router.get("/statistics")
async def show_statistics(request: Request, session: SignedIn, gateway: GatewayDep) -> Response:
    """Requests by status, time to decision, overdue requests, grants and events per provider and consumer."""
    require(session, "coordinator", "admin")
    statistics = await gateway.get(session, "/api/exchange/v1/statistics")
    calls = await gateway.get(session, "/api/audit/v1/statistics")
    return render(request, "statistics.html", statistics=statistics, charts=charts(statistics, calls))
