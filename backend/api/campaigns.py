"""Environment campaigns (卫生评比, 垃圾分类) API: starting a campaign over an area's compounds, appointing evaluators,
rounds, a building's score (PUT: a second entry updates), a round's ranking (红旗楼栋), findings with photos, a finding
turned into a work order or a rectification item (once each), and a compound's board of its buildings' ranks.

Refusals keep the error shape: a campaign, round, finding or compound that is none of the caller's → 404; a role
that may not do it → 403; a closed campaign → 409; bad input → 422; a photo over 10 MB → 413."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.domain.campaigns import MAX_PHOTOS
from backend.presenters import campaigns as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.campaigns import (
    CampaignCreateSchema,
    CampaignListSchema,
    CampaignRoundCreateSchema,
    CampaignRoundSchema,
    CampaignSchema,
    CompoundBoardSchema,
    EvaluatorAppointSchema,
    FindingDetailSchema,
    FindingPhotosSchema,
    RectificationFromFindingSchema,
    ScoreInputSchema,
    WorkLinkSchema,
)
from backend.schemas.common import ApiErrorSchema
from backend.services import campaigns as service
from backend.services import photos as photo_service

blp = Blueprint("campaigns", __name__, url_prefix="/api/v1", description="环境卫生评比与垃圾分类")
blp.ARGUMENTS_PARSER = MultipartParser()

ID = "(min=1, max=2147483647)"
AREA_ID = f"<int{ID}:area_id>"
COMPOUND_ID = f"<int{ID}:compound_id>"
CAMPAIGN_ID = f"<int{ID}:campaign_id>"
ROUND_ID = f"<int{ID}:round_id>"
BUILDING_ID = f"<int{ID}:building_id>"
FINDING_ID = f"<int{ID}:finding_id>"
PHOTO_ID = f"<int{ID}:campaign_photo_id>"


def _refusals(view):
    for code in (401, 403, 404, 409, 422):
        view = blp.alt_response(code, schema=ApiErrorSchema)(view)
    return view


@blp.route("/campaigns")
class MyCampaigns(MethodView):
    @blp.response(200, CampaignListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def get(self):
        """The campaigns I run (an official's of my areas) or score (an appointed evaluator), and the areas where I
        may start one."""
        return presenter.mine(optional_user_id())


@blp.route(f"/areas/{AREA_ID}/campaigns")
class AreaCampaigns(MethodView):
    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    @_refusals
    @jwt_required()
    def post(self, body, area_id):
        """Start a campaign over the area's compounds (an official of the community, street or above; an admin)."""
        user_id = optional_user_id()
        campaign = service.create_campaign(area_id, user_id, title=body["title"], kind=body["kind"],
                                           checklist=body["checklist"], red_flag_count=body["red_flag_count"],
                                           compound_ids=body["compound_ids"], ip=client_ip())
        return presenter.campaign(campaign.id, user_id)


@blp.route(f"/campaigns/{CAMPAIGN_ID}")
class CampaignDetail(MethodView):
    @blp.response(200, CampaignSchema)
    @_refusals
    @jwt_required()
    def get(self, campaign_id):
        """The campaign, to those who run it and its evaluators (residents read their compound's board)."""
        return presenter.campaign(campaign_id, optional_user_id())


@blp.route(f"/campaigns/{CAMPAIGN_ID}/evaluators")
class Evaluators(MethodView):
    @blp.arguments(EvaluatorAppointSchema)
    @blp.response(200, CampaignSchema)
    @_refusals
    @jwt_required()
    def post(self, body, campaign_id):
        """Appoint an evaluator (评比员) by phone: found, or created to sign in by SMS. Appointing twice is once."""
        user_id = optional_user_id()
        service.appoint_evaluator(campaign_id, user_id, body["phone"], body["name"], ip=client_ip())
        return presenter.campaign(campaign_id, user_id)


@blp.route(f"/campaigns/{CAMPAIGN_ID}/close")
class Close(MethodView):
    @blp.response(200, CampaignSchema)
    @_refusals
    @jwt_required()
    def post(self, campaign_id):
        """End the campaign: no more rounds or scores; its findings may still become work."""
        user_id = optional_user_id()
        service.close_campaign(campaign_id, user_id, ip=client_ip())
        return presenter.campaign(campaign_id, user_id)


@blp.route(f"/campaigns/{CAMPAIGN_ID}/rounds")
class Rounds(MethodView):
    @blp.arguments(CampaignRoundCreateSchema)
    @blp.response(201, CampaignRoundSchema)
    @_refusals
    @jwt_required()
    def post(self, body, campaign_id):
        """The next inspection round (第N轮), by an evaluator or an official running the campaign."""
        user_id = optional_user_id()
        held = service.add_round(campaign_id, user_id, body["inspected_on"], ip=client_ip())
        return presenter.round_view(held.id, user_id)


@blp.route(f"/campaign-rounds/{ROUND_ID}")
class RoundDetail(MethodView):
    @blp.response(200, CampaignRoundSchema)
    @_refusals
    @jwt_required()
    def get(self, round_id):
        """The round's ranking: best first, equal totals share a rank (1, 1, 3), the first N places (ties included)
        are 红旗楼栋; each building's points and findings; the buildings not scored yet."""
        return presenter.round_view(round_id, optional_user_id())


@blp.route(f"/campaign-rounds/{ROUND_ID}/buildings/{BUILDING_ID}/score")
class Score(MethodView):
    @blp.arguments(ScoreInputSchema)
    @blp.response(200, CampaignRoundSchema)
    @_refusals
    @jwt_required()
    def put(self, body, round_id, building_id):
        """Score a building in the round (every checklist item once), with findings. A second entry replaces the
        points and updates the findings' notes: one score per building and round."""
        user_id = optional_user_id()
        service.record_score(round_id, building_id, user_id, body["points"], body["note"], body["findings"],
                             ip=client_ip())
        return presenter.round_view(round_id, user_id)


@blp.route(f"/campaign-findings/{FINDING_ID}")
class FindingDetail(MethodView):
    @blp.response(200, FindingDetailSchema)
    @_refusals
    @jwt_required()
    def get(self, finding_id):
        """A finding with its photos and the work order or rectification item it became."""
        return presenter.finding(finding_id, optional_user_id())


@blp.route(f"/campaign-findings/{FINDING_ID}/photos")
class FindingPhotos(MethodView):
    decorators = [limit_photo_upload(MAX_PHOTOS)]

    @blp.arguments(FindingPhotosSchema, location="files")
    @blp.response(200, FindingDetailSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @_refusals
    @jwt_required()
    def post(self, form, finding_id):
        """Photos of the finding (multipart `photos`, six in all), by an evaluator or an official running it."""
        user_id = optional_user_id()
        # Only those who may see the finding get their files read.
        service.finding_seen_by(finding_id, user_id)
        service.add_finding_photos(finding_id, user_id,
                                   [photo_service.prepare_photo(upload.stream) for upload in form["photos"]])
        return presenter.finding(finding_id, user_id)


@blp.route(f"/campaign-findings/{FINDING_ID}/photos/{PHOTO_ID}")
class FindingPhotoBytes(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @_refusals
    @jwt_required()
    def get(self, finding_id, campaign_photo_id):
        """A photo of the finding (JPEG), to those who may see it."""
        return photo_service.photo_response(presenter.photo(finding_id, campaign_photo_id, optional_user_id()),
                                            max_age=3600)


@blp.route(f"/campaign-findings/{FINDING_ID}/work-order")
class ToWorkOrder(MethodView):
    @blp.response(200, WorkLinkSchema)
    @_refusals
    @jwt_required()
    def post(self, finding_id):
        """One tap: the finding becomes a common-area work order of its building carrying the finding's photos.
        Once: tapping again answers the same order."""
        order_id = service.finding_to_work_order(finding_id, optional_user_id(), ip=client_ip())
        return {"finding_id": finding_id, "work_order_id": order_id, "rectification_id": None}


@blp.route(f"/campaign-findings/{FINDING_ID}/rectification")
class ToRectification(MethodView):
    @blp.arguments(RectificationFromFindingSchema)
    @blp.response(200, WorkLinkSchema)
    @_refusals
    @jwt_required()
    def post(self, body, finding_id):
        """One tap: the finding becomes a rectification item (整改台账) with its photos, by a street's or the housing
        department's official running the campaign (a community's gets 403, as for any supervision inspection).
        Once: tapping again answers the same item."""
        item_id = service.finding_to_rectification(finding_id, optional_user_id(), body["responsible_party"],
                                                   body["deadline"], ip=client_ip())
        return {"finding_id": finding_id, "work_order_id": None, "rectification_id": item_id}


@blp.route(f"/compounds/{COMPOUND_ID}/campaigns")
class CompoundBoard(MethodView):
    @blp.response(200, CompoundBoardSchema)
    @_refusals
    def get(self, compound_id):
        """The compound's buildings in each campaign covering it (everyone of the compound, a QR visitor too): rank
        among all buildings ranked in the latest scored round, total, red flag; other compounds stay unnamed."""
        return presenter.compound_board(compound_id, optional_user_id(), entry_compound_id())
