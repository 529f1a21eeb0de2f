"""The only code that writes to the store or emits events (named do_*)."""

from hub.actions.admin import (
    do_create_agent,
    do_create_inbox,
    do_create_team,
    do_delete_team,
    do_rename_team,
    do_set_password,
    do_update_agent,
    do_update_inbox,
)
from hub.actions.canned import (
    do_create_canned_response,
    do_delete_canned_response,
    do_update_canned_response,
)
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
from hub.actions.presence import do_publish_presence, wire_presence
from hub.actions.replies import do_delivery_status, do_note, do_record_send, do_reply
from hub.actions.sessions import do_end_session, do_start_session, do_touch_session
from hub.actions.tokens import do_create_token, do_revoke_token, do_touch_token
from hub.actions.typing import do_typing

__all__ = [
    "ActionContext",
    "Assigner",
    "auto_assign",
    "clean_tags",
    "do_add_identity",
    "do_assign",
    "do_create_agent",
    "do_create_canned_response",
    "do_create_customer",
    "do_create_inbox",
    "do_create_team",
    "do_create_token",
    "do_delete_canned_response",
    "do_delete_team",
    "do_delivery_status",
    "do_end_session",
    "do_ingest",
    "do_ingest_many",
    "do_mark_read",
    "do_merge",
    "do_note",
    "do_publish_presence",
    "do_record_send",
    "do_rename_team",
    "do_reply",
    "do_revoke_token",
    "do_set_password",
    "do_set_priority",
    "do_set_status",
    "do_start_session",
    "do_tag",
    "do_touch_session",
    "do_touch_token",
    "do_typing",
    "do_undo_merge",
    "do_update_agent",
    "do_update_canned_response",
    "do_update_customer",
    "do_update_inbox",
    "do_wake_snoozed",
    "wire_presence",
]
