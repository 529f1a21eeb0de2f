"""Full-text message search on MongoDB: a $text index finds candidates, every word must match.

`$text` ORs its terms; the contract wants every word, so candidates (best score first) are
checked word by word here, reading on until `limit` messages match or the scan cap is hit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from hub.model import Message
from hub.store.mongo import documents as docs
from hub.store.mongo.documents import Doc
from hub.store.mongo.messages import MESSAGE_HIDDEN
from hub.store.mongo.schema import Collections

MAX_WORDS = 32  # as the SQLite backend: a longer query is cut, never an error
SCAN_CAP = 2000  # candidates read at most per search, so one broad query cannot run away
_BATCH = 200


def words(text: str) -> list[str]:
    """Words compared without case or diacritics (the text index ignores both too)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.findall(r"\w+", plain, flags=re.UNICODE)


def _matches_all(doc: Doc, wanted: set[str]) -> bool:
    return wanted.issubset(words(doc.get("text") or ""))


async def search_messages(
    cols: Collections, query: str, *, limit: int, inbox_ids: Sequence[str] | None
) -> list[Message]:
    # user text never reaches $text syntax: only bare words, so no phrases and no negation
    """Messages holding every word of the query, best match first."""
    wanted = list(dict.fromkeys(words(query)))[:MAX_WORDS]
    if not wanted or limit <= 0 or (inbox_ids is not None and not inbox_ids):
        return []
    match: Doc = {"$text": {"$search": " ".join(wanted)}}
    if inbox_ids is not None:
        match["inbox_id"] = {"$in": list(inbox_ids)}
    score = {"score": {"$meta": "textScore"}}
    cursor = (
        cols.messages.find(match, {**MESSAGE_HIDDEN, **score})
        .sort([("score", {"$meta": "textScore"}), ("created_at", -1)])
        .limit(SCAN_CAP)
        .batch_size(_BATCH)
    )
    found: list[Message] = []
    needed = set(wanted)
    async for doc in cursor:
        if _matches_all(doc, needed):
            found.append(docs.message(doc))
            if len(found) == limit:
                break
    await cursor.close()
    return found
