"""Deliberation rounds (五步议事法) API: topics from proposal and co-signs through review, discussion, the ballot
and its frozen result to objections, implementation and ratings; the compound's settings and "待我表决".

Each view parses with its schema, asks the service to act (it refuses in the one refusal shape: a topic or
compound the caller has nothing to do with → 404, a role or household that may not → 403, the topic's step
forbids it → 409, bad input → 422, a photo over 10 MB → 413) and dumps what the presenter built, the same the
pages show. How a household voted is shown only to that household's own people, and to everyone in the result
of an open vote (公开表决)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.domain.consultations import TopicAction
from backend.domain.roles import Action
from backend.presenters import consultations as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery, envelope
from backend.schemas.consultations import (
    AnswerSchema,
    BallotResultSchema,
    CommentInputSchema,
    CommentSchema,
    ConsultationSettingsSchema,
    HideSchema,
    HouseholdChoiceSchema,
    ObjectionInputSchema,
    ObjectionListSchema,
    ObjectionSchema,
    OptionListInputSchema,
    OptionListSchema,
    PaperVoteSchema,
    PendingBallotListSchema,
    ProgressInputSchema,
    ProgressListSchema,
    ProgressSchema,
    ProposeSchema,
    RatingSummarySchema,
    ReviewSchema,
    TopicDetailSchema,
    TopicListQuery,
    TopicListSchema,
    TopicPhotoSchema,
    TopicPhotoUploadSchema,
    TopicRatingInputSchema,
    TurnoutSchema,
    VoteInputSchema,
    VoteReceiptListSchema,
    VoteReceiptSchema,
    VoterSchema,
)
from backend.services import consultations as service
from backend.services import photos as photo_service
from backend.services.consultations import MAX_TOPIC_PHOTOS

blp = Blueprint("consultations", __name__, url_prefix="/api/v1", description="议事协商")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
TOPIC_ID = "<int(min=1, max=2147483647):topic_id>"
COMMENT_ID = "<int(min=1, max=2147483647):comment_id>"
OBJECTION_ID = "<int(min=1, max=2147483647):objection_id>"
PHOTO_ID = "<int(min=1, max=2147483647):topic_photo_id>"
# The first page of counted households that comes back with the result of a close.
COUNTED_PER_PAGE = 20


def _seen(topic_id: int) -> presenter.Seen:
    return presenter.look(topic_id, optional_user_id(), entry_compound_id())


def _detail(topic_id: int) -> presenter.TopicDetail:
    return presenter.fresh_detail(topic_id, optional_user_id(), entry_compound_id())


def _person_in(compound_id: int, action: Action = Action.VIEW_TOPICS):
    return presenter.person_in(compound_id, optional_user_id(), entry_compound_id(), action)


# ---- compound-level -----------------------------------------------------------------------------------


@blp.route(f"/compounds/{COMPOUND_ID}/topics")
class CompoundTopics(MethodView):
    @blp.arguments(TopicListQuery, location="query")
    @blp.response(200, TopicListSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, query, compound_id):
        """Topics newest first, optionally of one step, and what the caller may start here. Open to everyone of
        the compound, QR visitors too."""
        steps = [query["step"]] if "step" in query else None
        return presenter.topic_list(_person_in(compound_id), steps, query["page"], query["page_size"])

    @blp.arguments(ProposeSchema)
    @blp.response(201, TopicDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id):
        """议题征集: a verified household's owner or resident proposes (their household is the first co-sign);
        a committee member or the party secretary may instead raise it straight to review ("raise": true).
        Photos follow through POST /topics/<id>/photos."""
        person = _person_in(compound_id)
        if body["raise_"]:
            topic = service.raise_topic(compound_id, person, body["title"], body["body"], ip=client_ip())
        else:
            topic = service.propose_topic(
                compound_id, person, body["household_id"], body["title"], body["body"], ip=client_ip()
            )
        return _detail(topic.id)


@blp.route(f"/compounds/{COMPOUND_ID}/pending-ballots")
class PendingBallots(MethodView):
    @blp.response(200, PendingBallotListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """待我表决: open ballots in which one of my households may vote and has not yet, closing soonest first."""
        person = _person_in(compound_id)
        return {"items": presenter.pending_ballots(person.user_id, compound_id)}


@blp.route(f"/compounds/{COMPOUND_ID}/consultation-settings")
class Settings(MethodView):
    @blp.response(200, ConsultationSettingsSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """The co-sign threshold, whether residents may vote on ordinary consultations, the publicity days."""
        _person_in(compound_id, Action.CONFIGURE_CONSULTATIONS)
        return service.settings_for(compound_id)

    @blp.arguments(ConsultationSettingsSchema)
    @blp.response(200, ConsultationSettingsSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, compound_id):
        """Change the settings (committee, party secretary; audited). Topics already accepted keep theirs."""
        person = _person_in(compound_id, Action.CONFIGURE_CONSULTATIONS)
        return service.update_settings(compound_id, person.user_id, ip=client_ip(), **body)


# ---- one topic ----------------------------------------------------------------------------------------


@blp.route(f"/topics/{TOPIC_ID}")
class TopicView(MethodView):
    @blp.response(200, TopicDetailSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, topic_id):
        """The topic with its step, options, my households' co-signs and recorded votes, its photos and what
        the caller may do now."""
        return presenter.topic_detail(_seen(topic_id))


@blp.route(f"/topics/{TOPIC_ID}/photos")
class TopicPhotos(MethodView):
    decorators = [limit_photo_upload()]

    @blp.arguments(TopicPhotoUploadSchema, location="files")
    @blp.response(201, TopicPhotoSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema, description="不是可用的照片，或照片已达上限")
    @jwt_required()
    def post(self, files, topic_id):
        """Add one photo to my proposal (multipart field `photo`, re-encoded without EXIF), until the topic is
        accepted; at most six."""
        seen = _seen(topic_id)
        prepared = photo_service.prepare_photo(files["photo"].stream)
        return service.add_proposal_photo(topic_id, seen.person, prepared, ip=client_ip())


@blp.route(f"/topics/{TOPIC_ID}/photos/{PHOTO_ID}")
class TopicPhotoBytes(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, topic_id, topic_photo_id):
        """A proposal or progress photo, for everyone of the compound; a paper ballot's only for those who run
        the ballot (it shows how a household voted)."""
        seen = _seen(topic_id)
        return photo_service.photo_response(
            service.visible_photo(seen.topic, topic_photo_id, seen.person), max_age=3600
        )


@blp.route(f"/topics/{TOPIC_ID}/cosign")
class Cosign(MethodView):
    @blp.arguments(HouseholdChoiceSchema)
    @blp.response(200, TopicDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="已不在征集阶段，或这户已联名")
    @jwt_required()
    def post(self, body, topic_id):
        """联名 for one of my verified households; reaching the threshold moves the topic to 议题确定."""
        service.cosign(topic_id, _seen(topic_id).person, body["household_id"], ip=client_ip())
        return _detail(topic_id)


@blp.route(f"/topics/{TOPIC_ID}/review")
class Review(MethodView):
    @blp.arguments(ReviewSchema)
    @blp.response(200, TopicDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="议题不在待确定阶段")
    @jwt_required()
    def post(self, body, topic_id):
        """议题确定 (the party secretary; the committee where there is no party organisation): accept with the
        kind of decision and the deadlines, decline with a public reason, or merge into an open topic."""
        service.review_topic(topic_id, _seen(topic_id).person, body["review"], ip=client_ip())
        return _detail(topic_id)


@blp.route(f"/topics/{TOPIC_ID}/comments")
class Comments(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, envelope(CommentSchema))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, query, topic_id):
        """Comments oldest first, each followed by its replies; hidden ones keep their place with the reason."""
        return presenter.comments_page(_seen(topic_id), query["page"], query["page_size"])

    @blp.arguments(CommentInputSchema)
    @blp.response(201, CommentSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="议题已结束")
    @jwt_required()
    def post(self, body, topic_id):
        """Comment, or reply to a comment (parent_id); replies stay one level deep."""
        seen = _seen(topic_id)
        service.require(seen.person, TopicAction.COMMENT)
        comment = service.add_comment(topic_id, seen.person.user_id, body["body"], body["parent_id"], ip=client_ip())
        return presenter.comment_lines(seen.topic, seen.person, [comment])[0]


@blp.route(f"/topics/{TOPIC_ID}/comments/{COMMENT_ID}/hide")
class HideComment(MethodView):
    @blp.arguments(HideSchema)
    @blp.response(200, CommentSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="这条评论已隐藏")
    @jwt_required()
    def post(self, body, topic_id, comment_id):
        """Hide a comment with a public reason (committee, party secretary; audited): it shows as hidden."""
        seen = _seen(topic_id)
        comment = service.hide_comment(topic_id, comment_id, seen.person, body["reason"], ip=client_ip())
        return presenter.comment_lines(seen.topic, seen.person, [comment])[0]


@blp.route(f"/topics/{TOPIC_ID}/options")
class Options(MethodView):
    @blp.arguments(OptionListInputSchema)
    @blp.response(200, OptionListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="只能在协商讨论阶段拟定")
    @jwt_required()
    def put(self, body, topic_id):
        """Draft the ballot (committee, party secretary) during deliberation: 2–20 options, at most one 弃权
        and one 同意 (a motion is decided by its 同意; candidates each on their own). Replaces the list."""
        service.set_options(topic_id, _seen(topic_id).person, body["options"], ip=client_ip())
        return {"items": presenter.options_of(topic_id)}


@blp.route(f"/topics/{TOPIC_ID}/ballot/open")
class OpenBallot(MethodView):
    @blp.response(200, TopicDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="不在协商讨论阶段，或选项不足两个")
    @jwt_required()
    def post(self, topic_id):
        """Open the ballot for the window set at review; the roll of households is frozen now. It cannot be
        undone and is not asked about here: confirm with the user first, showing the detail's
        `open_ballot_warnings`."""
        person = _seen(topic_id).person
        service.require(person, TopicAction.OPEN_BALLOT)
        service.open_ballot(topic_id, person.user_id, ip=client_ip())
        return _detail(topic_id)


@blp.route(f"/topics/{TOPIC_ID}/vote")
class VoteView(MethodView):
    @blp.arguments(VoteInputSchema)
    @blp.response(200, VoteReceiptSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="不是这户已认证的业主（或允许表决的住户）")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="表决未开始或已截止")
    @blp.alt_response(422, schema=ApiErrorSchema, description="没有这个表决选项")
    @jwt_required()
    def put(self, body, topic_id):
        """Vote, or change the vote, for one of my households until the ballot closes; the last one counts.
        Answers with the household's receipt."""
        vote = service.vote(topic_id, optional_user_id(), body["household_id"], body["option_id"],
                            entry_compound_id())
        return presenter.vote_receipt(vote)


@blp.route(f"/topics/{TOPIC_ID}/paper-votes")
class PaperVotes(MethodView):
    decorators = [limit_photo_upload()]

    @blp.arguments(PaperVoteSchema, location="files")
    @blp.response(201, VoteReceiptSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="表决未开始或已截止")
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, topic_id):
        """书面表决票 (paper) or 委托书 (proxy), recorded by a committee member with a photo of the paper
        (audited); it replaces the household's earlier vote like any later vote."""
        seen = _seen(topic_id)
        service.require(seen.person, TopicAction.RECORD_PAPER_VOTE)
        vote = service.record_paper_vote(
            topic_id, seen.person, form["household_id"], form["option_id"], form["channel"],
            photo_service.prepare_photo(form["photo"].stream), note=form["note"], ip=client_ip(),
        )
        return presenter.paper_vote_receipt(seen, vote)


@blp.route(f"/topics/{TOPIC_ID}/ballot/close")
class CloseBallot(MethodView):
    @blp.response(200, BallotResultSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="未到截止时间且仍有住户未表决，或表决未开始")
    @jwt_required()
    def post(self, topic_id):
        """Close the ballot (committee, party secretary): before its end only once every household has voted.
        The result is computed, frozen and published for the publicity period. It cannot be undone and is not
        asked about here: confirm with the user first."""
        seen = _seen(topic_id)
        service.require(seen.person, TopicAction.CLOSE_BALLOT)
        service.close_ballot(topic_id, seen.person.user_id, ip=client_ip())
        return presenter.ballot_result(seen.topic, 1, COUNTED_PER_PAGE)


@blp.route(f"/topics/{TOPIC_ID}/turnout")
class TurnoutView(MethodView):
    @blp.response(200, TurnoutSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="表决尚未开始")
    def get(self, topic_id):
        """The live participation bar: households, area and owners voted so far against the two-thirds lines.
        Counts only, for everyone of the compound."""
        topic = _seen(topic_id).topic
        if topic.ballot_opened_at is None:
            abort(409, message="表决尚未开始")
        return presenter.turnout(topic)


@blp.route(f"/topics/{TOPIC_ID}/voters")
class Voters(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, envelope(VoterSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="表决尚未开始")
    @jwt_required()
    def get(self, query, topic_id):
        """The roll with who has voted, never how (committee, party secretary), to remind those who have not."""
        return service.voters(topic_id, _seen(topic_id).person, query["page"], query["page_size"])


@blp.route(f"/topics/{TOPIC_ID}/my-vote")
class MyVote(MethodView):
    @blp.response(200, VoteReceiptListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, topic_id):
        """我的表决: my households in the ballot, each with its recorded option, channel and when (its own only)."""
        seen = _seen(topic_id)
        return {"items": presenter.my_ballots(seen.topic, seen.person)}


@blp.route(f"/topics/{TOPIC_ID}/result")
class ResultView(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, BallotResultSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="表决结束后才会公布结果")
    def get(self, query, topic_id):
        """The frozen result: figures, per-option totals, the thresholds applied and why it passed or failed in
        plain Chinese; the households counted (paged), with their choices only in an open vote."""
        result = presenter.ballot_result(_seen(topic_id).topic, query["page"], query["page_size"])
        if result is None:
            abort(409, message="表决结束后才会公布结果")
        return result


@blp.route(f"/topics/{TOPIC_ID}/objections")
class Objections(MethodView):
    @blp.response(200, ObjectionListSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, topic_id):
        """Objections with the committee's public answers, oldest first."""
        return {"items": presenter.objections_of(_seen(topic_id))}

    @blp.arguments(ObjectionInputSchema)
    @blp.response(201, ObjectionSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="不在结果公示期内")
    @jwt_required()
    def post(self, body, topic_id):
        """异议 during the publicity period, by a verified owner; the committee must answer it publicly."""
        seen = _seen(topic_id)
        objection = service.file_objection(topic_id, seen.person, body["household_id"], body["body"], ip=client_ip())
        return presenter.objection_lines(seen.topic, seen.person, [objection])[0]


@blp.route(f"/topics/{TOPIC_ID}/objections/{OBJECTION_ID}/answer")
class Answer(MethodView):
    @blp.arguments(AnswerSchema)
    @blp.response(200, ObjectionSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="已答复过")
    @jwt_required()
    def post(self, body, topic_id, objection_id):
        """The committee's public answer to an objection (audited); its author is told."""
        seen = _seen(topic_id)
        objection = service.answer_objection(topic_id, objection_id, seen.person, body["answer"], ip=client_ip())
        return presenter.objection_lines(seen.topic, seen.person, [objection])[0]


@blp.route(f"/topics/{TOPIC_ID}/progress")
class Progress(MethodView):
    decorators = [limit_photo_upload(MAX_TOPIC_PHOTOS)]

    @blp.response(200, ProgressListSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, topic_id):
        """落实: the implementation timeline with photos, oldest first."""
        return {"items": presenter.progress_lines(_seen(topic_id).topic)}

    @blp.arguments(ProgressInputSchema, location="files")
    @blp.response(201, ProgressSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="议题不在落实阶段")
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, topic_id):
        """A progress update by the responsible side (multipart: body, is_final, up to six `photos`); the final
        one marks the decision carried out."""
        seen = _seen(topic_id)
        service.require(seen.person, TopicAction.POST_PROGRESS)
        prepared = [photo_service.prepare_photo(upload.stream) for upload in form["photos"]]
        progress = service.post_progress(topic_id, seen.person, form["body"], form["is_final"], prepared,
                                         ip=client_ip())
        return next(line for line in presenter.progress_lines(seen.topic) if line.id == progress.id)


@blp.route(f"/topics/{TOPIC_ID}/ratings")
class Ratings(MethodView):
    @blp.arguments(TopicRatingInputSchema)
    @blp.response(201, RatingSummarySchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="决议落实后才能评价")
    @jwt_required()
    def post(self, body, topic_id):
        """民事民评: rate the implementation for one of my households, 1–5 stars; a second rating replaces it."""
        person = _seen(topic_id).person
        service.rate_implementation(topic_id, person, body["household_id"], body["stars"], body["comment"],
                                    ip=client_ip())
        return presenter.ratings(topic_id, person)


@blp.route(f"/topics/{TOPIC_ID}/follow")
class Follow(MethodView):
    @blp.response(200, TopicDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, topic_id):
        """Follow the topic: hear of every step change."""
        person = _seen(topic_id).person
        service.require(person, TopicAction.FOLLOW)
        service.follow_topic(topic_id, person.user_id)
        return _detail(topic_id)
