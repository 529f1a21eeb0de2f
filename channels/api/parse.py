"""The API channel's native form (a JSON message) and its translation to Inbound."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from hub.model import Attachment, Inbound, ThreadHints
from hub.web.schemas import AddressIn, Id, ShortText, Strict, Text, WholeNumber

CHANNEL = "api"


class SenderIn(AddressIn):
    name: Annotated[str, StringConstraints(max_length=200)] | None = None


class AttachmentIn(Strict):
    filename: ShortText
    content_type: ShortText
    size: WholeNumber
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None


class ThreadIn(Strict):
    message_key: Annotated[str, StringConstraints(max_length=998)] | None = None
    references: Annotated[
        list[Annotated[str, StringConstraints(max_length=998)]], Field(max_length=100)
    ] = Field(default_factory=list)


class InboundIn(Strict):
    """One message from an integration through the generic API channel."""

    inbox_id: Id
    provider_id: Annotated[str, StringConstraints(min_length=1, max_length=512)] = Field(
        description="Your unique id for this message in this inbox; re-posting it to the same"
        " inbox is a no-op (dedupe key)."
    )
    sender: SenderIn
    text: Text | None = None
    html: Annotated[str, StringConstraints(max_length=1_048_576)] | None = None
    subject: Annotated[str, StringConstraints(max_length=998)] | None = None
    attachments: Annotated[list[AttachmentIn], Field(max_length=50)] = Field(default_factory=list)
    thread: ThreadIn = Field(default_factory=ThreadIn)
    sent_at: datetime | None = Field(default=None, json_schema_extra={"format": "date-time"})

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, ser_json_timedelta="iso8601"
    )


class InboundBatchIn(Strict):
    messages: Annotated[list[InboundIn], Field(min_length=1)]


def to_inbound(body: InboundIn) -> Inbound:
    """The Inbound for one posted message."""
    return Inbound(
        channel=CHANNEL,
        inbox_id=body.inbox_id,
        # integrators choose their ids, so two inboxes may pick the same one: the dedupe key is
        # scoped to the inbox, or one inbox's message would be taken for another's duplicate
        provider_id=f"{body.inbox_id}/{body.provider_id}",
        sender_kind=body.sender.kind,
        sender=body.sender.address,
        sender_name=body.sender.name,
        text=body.text,
        html=body.html,
        subject=body.subject,
        attachments=tuple(
            Attachment(filename=a.filename, content_type=a.content_type, size=a.size, url=a.url)
            for a in body.attachments
        ),
        thread=ThreadHints(
            message_key=body.thread.message_key, references=tuple(body.thread.references)
        ),
        sent_at=body.sent_at,
    )
