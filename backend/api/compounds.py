"""Compounds, their buildings and households, and their QR codes."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from backend.domain.roles import Action, allows
from backend.policy import assessed_compounds, authorize, visible_compounds
from backend.request_context import entry_compound_id, jwt_required, optional_user_id
from backend.schemas.common import ID, ApiErrorSchema, PageQuery, envelope
from backend.schemas.places import BuildingSchema, CompoundSchema, HouseholdSchema
from backend.services import compounds as compound_service
from backend.services import qr as qr_service

blp = Blueprint("compounds", __name__, url_prefix="/api/v1/compounds", description="小区、楼栋、房屋")

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"


class HouseholdQuery(PageQuery):
    building_id = fields.Integer(validate=ID)


class QrQuery(Schema):
    building_id = fields.Integer(validate=ID)


@blp.route("")
class Compounds(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, envelope(CompoundSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query):
        """The compounds the caller may see: their own, every one below an official's area, all for admins."""
        user_id = optional_user_id()
        page = compound_service.compound_rows(
            visible_compounds(user_id), query["page"], query["page_size"], assessed_compounds(user_id)
        )
        return page.__dict__


@blp.route(f"/{COMPOUND_ID}")
class CompoundDetail(MethodView):
    @blp.response(200, CompoundSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, compound_id):
        """One compound's ledger row (members, officials above it, or a visitor with its QR entry); the
        assessment fields only for those who run or oversee it."""
        access = authorize(Action.VIEW_COMPOUND, compound_id, optional_user_id(), entry_compound_id())
        return compound_service.compound_detail(access.compound, allows(access.roles, Action.VIEW_ASSESSMENT))


@blp.route(f"/{COMPOUND_ID}/buildings")
class Buildings(MethodView):
    @blp.response(200, envelope(BuildingSchema))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, compound_id):
        """The compound's buildings, for choosing a household to bind."""
        authorize(Action.LIST_BUILDINGS, compound_id, optional_user_id(), entry_compound_id())
        buildings = compound_service.list_buildings(compound_id)
        return {"items": buildings, "total": len(buildings), "page": 1, "page_size": max(1, len(buildings))}


@blp.route(f"/{COMPOUND_ID}/households")
class Households(MethodView):
    @blp.arguments(HouseholdQuery, location="query")
    @blp.response(200, envelope(HouseholdSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """Households with floor area and verified-owner count (committee, staff, managers, officials)."""
        authorize(Action.LIST_HOUSEHOLDS, compound_id, optional_user_id())
        page = compound_service.households_page(
            compound_id, query["page"], query["page_size"], query.get("building_id")
        )
        return page.__dict__


def _qr_url(compound_id: int, query: dict) -> str:
    access = authorize(Action.PRINT_QR, compound_id, optional_user_id())
    try:
        building = compound_service.building_in(compound_id, query.get("building_id"))
    except LookupError:
        abort(404, message="没有这个楼栋")
    return qr_service.entry_url(access.compound, building)


@blp.route(f"/{COMPOUND_ID}/qr.png")
class QrPng(MethodView):
    @blp.arguments(QrQuery, location="query")
    @blp.response(200, content_type="image/png")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """The compound's (or a building's) entry QR code as PNG."""
        return Response(qr_service.qr_png(_qr_url(compound_id, query)), mimetype="image/png")


@blp.route(f"/{COMPOUND_ID}/qr.svg")
class QrSvg(MethodView):
    @blp.arguments(QrQuery, location="query")
    @blp.response(200, content_type="image/svg+xml")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """The compound's (or a building's) entry QR code as SVG, for print."""
        return Response(qr_service.qr_svg(_qr_url(compound_id, query)), mimetype="image/svg+xml")
