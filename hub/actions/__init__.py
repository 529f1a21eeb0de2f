"""The only code that writes to the store or emits events (named do_*)."""

from hub.actions.context import ActionContext, Assigner
from hub.actions.conversations import (
    auto_assign,
    clean_tags,
    do_assign,
    do_mark_read,
    do_set_priority,
    do_set_status,
    do_tag,
    do_wake_snoozed,
)
from hub.actions.customers import (
    do_add_identity,
    do_create_customer,
    do_merge,
    do_undo_merge,
    do_update_customer,
)
from hub.actions.ingest import do_ingest, do_ingest_many
from hub.actions.replies import do_delivery_status, do_note, do_record_send, do_reply

__all__ = [
    "ActionContext",
    "Assigner",
    "auto_assign",
    "clean_tags",
    "do_add_identity",
    "do_assign",
    "do_create_customer",
    "do_delivery_status",
    "do_ingest",
    "do_ingest_many",
    "do_mark_read",
    "do_merge",
    "do_note",
    "do_record_send",
    "do_reply",
    "do_set_priority",
    "do_set_status",
    "do_tag",
    "do_undo_merge",
    "do_update_customer",
    "do_wake_snoozed",
]
