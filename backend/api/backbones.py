"""治理骨干 roster: read it (everyone of the compound), keep it (party secretary, the officials over the compound),
put oneself forward (verified residents)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.domain.backbones import BackboneAction
from backend.domain.roles import Action
from backend.policy import authorize
from backend.presenters import backbones as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.backbones import (
    BackboneAddSchema,
    BackboneMemberSchema,
    BackboneNoteSchema,
    BackboneRosterQuery,
    BackboneRosterSchema,
    BackboneVolunteerSchema,
)
from backend.schemas.common import ApiErrorSchema
from backend.services import backbones as service

blp = Blueprint("backbones", __name__, url_prefix="/api/v1", description="治理骨干名册")

COMPOUND = "/compounds/<int(min=1, max=2147483647):compound_id>/backbones"
MEMBER = "/backbones/<int(min=1, max=2147483647):member_id>"


@blp.route(COMPOUND)
class CompoundBackbones(MethodView):
    @blp.arguments(BackboneRosterQuery, location="query")
    @blp.response(200, BackboneRosterSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, query, compound_id):
        """The roster by kind: active entries' names, kinds, buildings and skills (never a phone); keepers also see
        the applications waiting (`status=live`) or the history (`ended`, `declined`), with their `actions`. `mine`:
        the caller's own entries. Send the scanned QR token as X-Entry-Token if not yet a member."""
        return presenter.roster(compound_id, optional_user_id(), entry_compound_id(), query["status"], query["kind"])

    @blp.arguments(BackboneAddSchema)
    @blp.response(201, BackboneMemberSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="此人已在册，或该楼栋已有楼栋长")
    @jwt_required()
    def post(self, body, compound_id):
        """Enter someone on the roster, active at once (audited): a verified resident linked by `phone`, or a name
        only. A building head names the building (`building_id`); one active head per building."""
        authorize(Action.KEEP_BACKBONES, compound_id, optional_user_id())
        member = service.add_member(compound_id, optional_user_id(), ip=client_ip(), **body)
        return presenter.member(member.id, keeps=True)


@blp.route(f"{COMPOUND}/volunteer")
class Volunteer(MethodView):
    @blp.arguments(BackboneVolunteerSchema)
    @blp.response(201, BackboneMemberSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="已申请或已在册")
    @jwt_required()
    def post(self, body, compound_id):
        """我要当志愿者: a verified resident puts themselves forward (volunteer, capable, party member); the entry
        waits for the party secretary, who is told."""
        authorize(Action.VOLUNTEER_AS_BACKBONE, compound_id, optional_user_id())
        member = service.volunteer(compound_id, optional_user_id(), ip=client_ip(), **body)
        return presenter.member(member.id, keeps=False, own=True)


def _decide(member_id: int, action: BackboneAction, note: str):
    presenter.keeping(member_id, optional_user_id())
    service.decide(member_id, optional_user_id(), action, note, client_ip())
    return presenter.member(member_id, keeps=True)


@blp.route(f"{MEMBER}/confirm")
class Confirm(MethodView):
    @blp.arguments(BackboneNoteSchema)
    @blp.response(200, BackboneMemberSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, member_id):
        """Confirm a resident's application: the entry becomes active from today and the resident is told."""
        return _decide(member_id, BackboneAction.CONFIRM, body["note"])


@blp.route(f"{MEMBER}/decline")
class Decline(MethodView):
    @blp.arguments(BackboneNoteSchema)
    @blp.response(200, BackboneMemberSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, member_id):
        """Decline a resident's application, with a reason they read (optional)."""
        return _decide(member_id, BackboneAction.DECLINE, body["note"])


@blp.route(f"{MEMBER}/end")
class End(MethodView):
    @blp.arguments(BackboneNoteSchema)
    @blp.response(200, BackboneMemberSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, member_id):
        """End an active entry (moved away, stepped down): it leaves the public roster and stays in the history,
        with who ended it and when."""
        return _decide(member_id, BackboneAction.END, body["note"])
