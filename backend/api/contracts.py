"""The company's life cycle API (选聘, 物业服务合同, 承接查验): a compound's contracts and selections, raising a
selection (an owners' vote under Art. 278 item 4), a contract with its terms, file, activation and one-tap
renewal, reselection or dismissal, and handover inspections with items, photos and both sides' signatures.

Refusals keep the error shape: a compound, contract or inspection that is none of the caller's → 404; a role that
may not do it → 403; a state that does not allow it (signing with open items) → 409; bad input → 422; a photo or
file over 10 MB → 413."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.domain.contracts import MAX_PHOTOS
from backend.presenters import contracts as presenter
from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.contracts import (
    CompoundContractsSchema,
    ContractDetailSchema,
    ContractFileSchema,
    ContractTermsSchema,
    FollowUpInputSchema,
    HandoverDetailSchema,
    HandoverItemInputSchema,
    SelectionInputSchema,
    SelectionSchema,
    SignInputSchema,
)
from backend.services import contracts as service
from backend.services import photos as photo_service
from backend.services.documents import prepare_document
from backend.serving import evidence_response

blp = Blueprint("contracts", __name__, url_prefix="/api/v1", description="物业选聘、合同与承接查验")
blp.ARGUMENTS_PARSER = MultipartParser()

MAX_ID = 2147483647
COMPOUND_ID = f"<int(min=1, max={MAX_ID}):compound_id>"
CONTRACT_ID = f"<int(min=1, max={MAX_ID}):contract_id>"
INSPECTION_ID = f"<int(min=1, max={MAX_ID}):inspection_id>"
ITEM_ID = f"<int(min=1, max={MAX_ID}):item_id>"
PHOTO_ID = f"<int(min=1, max={MAX_ID}):handover_photo_id>"


def _responses(*statuses: int):
    def decorate(view):
        for status in statuses:
            view = blp.alt_response(status, schema=ApiErrorSchema)(view)
        return view
    return decorate


@blp.route(f"/compounds/{COMPOUND_ID}/contracts")
class CompoundContracts(MethodView):
    @blp.response(200, CompoundContractsSchema)
    @_responses(401, 403, 404)
    @jwt_required()
    def get(self, compound_id):
        """The compound's contracts (latest first) and company selections, each selection brought up to its vote."""
        return presenter.compound_contracts(compound_id, optional_user_id())


@blp.route(f"/compounds/{COMPOUND_ID}/company-selections")
class CompanySelections(MethodView):
    @blp.arguments(SelectionInputSchema)
    @blp.response(201, SelectionSchema)
    @_responses(401, 403, 404, 422)
    @jwt_required()
    def post(self, body, compound_id):
        """选聘: the committee names 1–5 candidate companies; a topic waits at the desk to be accepted as an owners'
        joint decision under Art. 278 item 4. Its passed result makes a draft contract with the chosen company."""
        selection = service.start_selection(compound_id, optional_user_id(), body["candidate_ids"], ip=client_ip())
        return presenter.selection_view(selection.id)


@blp.route(f"/contracts/{CONTRACT_ID}")
class ContractDetail(MethodView):
    @blp.response(200, ContractDetailSchema)
    @_responses(401, 403, 404)
    @jwt_required()
    def get(self, contract_id):
        """The contract with its terms, file, reminders sent, inspections, votes about it and this person's actions."""
        return presenter.contract_detail(contract_id, optional_user_id())

    @blp.arguments(ContractTermsSchema)
    @blp.response(200, ContractDetailSchema)
    @_responses(401, 403, 404, 409, 422)
    @jwt_required()
    def put(self, body, contract_id):
        """A draft's terms: term start and end, service level (1 一级 … 5 五级), the compound's fee schedule."""
        service.update_terms(contract_id, optional_user_id(), ip=client_ip(), **body)
        return presenter.contract_detail(contract_id, optional_user_id())


@blp.route(f"/contracts/{CONTRACT_ID}/file")
class ContractFile(MethodView):
    decorators = [limit_photo_upload(1)]

    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
                  description="application/pdf，或照片时 image/jpeg；总是作为下载")
    @_responses(401, 403, 404)
    @jwt_required()
    def get(self, contract_id):
        """The signed contract's file, to whoever may see the compound's contracts."""
        found = presenter.contract_file(contract_id, optional_user_id())
        return evidence_response(found.data, found.content_type, found.filename, inline_photo=False)

    @blp.arguments(ContractFileSchema, location="files")
    @blp.response(200, ContractDetailSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="文件超过 10 MB")
    @_responses(401, 403, 404, 409, 422)
    @jwt_required()
    def post(self, form, contract_id):
        """Attach the contract (multipart `file`: a PDF or a photo) to a draft, keeping its other terms."""
        # Only those who may see the contract get their file read: a stranger learns nothing from a refused upload.
        service.contract_seen(contract_id, optional_user_id())
        service.attach_file(contract_id, optional_user_id(), prepare_document(form["file"].stream), ip=client_ip())
        return presenter.contract_detail(contract_id, optional_user_id())


@blp.route(f"/contracts/{CONTRACT_ID}/activation")
class Activation(MethodView):
    @blp.response(200, ContractDetailSchema)
    @_responses(401, 403, 404, 409)
    @jwt_required()
    def post(self, contract_id):
        """签订生效: a draft with its term, level and file becomes active and the compound's company (audited)."""
        service.activate(contract_id, optional_user_id(), ip=client_ip())
        return presenter.contract_detail(contract_id, optional_user_id())


@blp.route(f"/contracts/{CONTRACT_ID}/follow-up")
class FollowUp(MethodView):
    @blp.arguments(FollowUpInputSchema)
    @blp.response(201, SelectionSchema)
    @_responses(401, 403, 404, 409, 422)
    @jwt_required()
    def post(self, body, contract_id):
        """One tap on an active contract: renew (续聘), hire (重新选聘, with candidates) or dismiss (解聘) as an
        owners' vote under item 4; one vote at a time about a contract (409 for a second)."""
        selection = service.follow_up_contract(contract_id, optional_user_id(), body["purpose"],
                                               body["candidate_ids"], ip=client_ip())
        return presenter.selection_view(selection.id)


@blp.route(f"/contracts/{CONTRACT_ID}/handovers")
class Handovers(MethodView):
    @blp.response(201, HandoverDetailSchema)
    @_responses(401, 403, 404, 409)
    @jwt_required()
    def post(self, contract_id):
        """承接查验: open the takeover inspection of a draft or active contract (once) with the default checklist."""
        inspection = service.start_handover(contract_id, optional_user_id(), ip=client_ip())
        return presenter.handover_detail(inspection.id, optional_user_id())


@blp.route(f"/handovers/{INSPECTION_ID}")
class HandoverDetail(MethodView):
    @blp.response(200, HandoverDetailSchema)
    @_responses(401, 403, 404)
    @jwt_required()
    def get(self, inspection_id):
        """The inspection with its items, photos, signatures and this person's actions."""
        return presenter.handover_detail(inspection_id, optional_user_id())


@blp.route(f"/handovers/{INSPECTION_ID}/items/{ITEM_ID}")
class HandoverItem(MethodView):
    decorators = [limit_photo_upload(MAX_PHOTOS)]

    @blp.arguments(HandoverItemInputSchema, location="files")
    @blp.response(200, HandoverDetailSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @_responses(401, 403, 404, 409, 422)
    @jwt_required()
    def post(self, form, inspection_id, item_id):
        """Record an item (multipart: `state`, `note`, up to six `photos` in all): the committee, before anyone signs."""
        service.inspection_seen(inspection_id, optional_user_id())
        photos = [photo_service.prepare_photo(upload.stream) for upload in form["photos"]]
        service.record_item(inspection_id, item_id, optional_user_id(), form["state"], form["note"], photos,
                            ip=client_ip())
        return presenter.handover_detail(inspection_id, optional_user_id())


@blp.route(f"/handovers/{INSPECTION_ID}/items/{ITEM_ID}/resolution")
class Resolution(MethodView):
    @blp.response(200, HandoverDetailSchema)
    @_responses(401, 403, 404, 409)
    @jwt_required()
    def post(self, inspection_id, item_id):
        """销项: a defective or missing item put right (the committee)."""
        service.resolve_item(inspection_id, item_id, optional_user_id(), ip=client_ip())
        return presenter.handover_detail(inspection_id, optional_user_id())


@blp.route(f"/handovers/{INSPECTION_ID}/signatures")
class Signatures(MethodView):
    @blp.arguments(SignInputSchema)
    @blp.response(200, HandoverDetailSchema)
    @_responses(401, 403, 404, 409, 422)
    @jwt_required()
    def post(self, body, inspection_id):
        """A side signs: `committee` (a member) or `company` (its manager in the compound). Refused (409) while any
        item is unchecked or not put right; both signatures close the inspection."""
        service.sign(inspection_id, optional_user_id(), body["side"], ip=client_ip())
        return presenter.handover_detail(inspection_id, optional_user_id())


@blp.route(f"/handovers/{INSPECTION_ID}/photos/{PHOTO_ID}")
class HandoverPhotoBytes(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @_responses(401, 403, 404)
    @jwt_required()
    def get(self, inspection_id, handover_photo_id):
        """An item's photo (JPEG), to those who may see the compound's contracts."""
        return photo_service.photo_response(presenter.photo(inspection_id, handover_photo_id, optional_user_id()),
                                            max_age=3600)
