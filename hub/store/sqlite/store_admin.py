"""SqliteStore's methods for teams, agents, inboxes, tokens, sessions and canned responses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from hub.model import (
    Agent,
    ApiToken,
    CannedResponse,
    Inbox,
    Role,
    Session,
    Team,
)
from hub.store.base import (
    UNSET,
)
from hub.store.sqlite import (
    admin,
    admin_edits,
    canned,
    sessions,
)
from hub.store.sqlite.engine import SqliteEngine


class AdminMethods:
    """The administrative part of the Store protocol (see SqliteStore for the rest).

    Each method's contract is its docstring in hub/store/base.py.
    """

    engine: SqliteEngine

    # --- agents, teams, inboxes, tokens -------------------------------------------------
    async def create_team(self, name: str, *, now: datetime) -> Team:
        return await self.engine.write(partial(admin.create_team, name=name, now=now))

    async def list_teams(self) -> list[Team]:
        return await self.engine.read(admin.list_teams)

    async def create_agent(
        self,
        *,
        email: str,
        name: str,
        role: Role,
        password_hash: str | None,
        team_ids: Sequence[str],
        now: datetime,
    ) -> Agent:
        job = partial(
            admin.create_agent,
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            team_ids=team_ids,
            now=now,
        )
        return await self.engine.write(job)

    async def get_agent(self, agent_id: str) -> Agent | None:
        return await self.engine.read(partial(admin.get_agent, agent_id=agent_id))

    async def get_agent_by_email(self, email: str) -> Agent | None:
        return await self.engine.read(partial(admin.get_agent_by_email, email=email))

    async def list_agents(self) -> list[Agent]:
        return await self.engine.read(admin.list_agents)

    async def create_inbox(
        self,
        *,
        name: str,
        channel: str,
        team_id: str | None,
        config: Mapping[str, Any],
        now: datetime,
    ) -> Inbox:
        job = partial(
            admin.create_inbox, name=name, channel=channel, team_id=team_id, config=config, now=now
        )
        return await self.engine.write(job)

    async def get_inbox(self, inbox_id: str) -> Inbox | None:
        return await self.engine.read(partial(admin.get_inbox, inbox_id=inbox_id))

    async def list_inboxes(self) -> list[Inbox]:
        return await self.engine.read(admin.list_inboxes)

    async def create_token(
        self,
        *,
        agent_id: str,
        name: str,
        token_hash: str,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> ApiToken:
        job = partial(
            admin.create_token,
            agent_id=agent_id,
            name=name,
            token_hash=token_hash,
            now=now,
            expires_at=expires_at,
        )
        return await self.engine.write(job)

    async def agent_for_token(self, token_hash: str) -> tuple[Agent, ApiToken] | None:
        return await self.engine.read(partial(admin.agent_for_token, token_hash=token_hash))

    async def get_token(self, token_id: str) -> ApiToken | None:
        return await self.engine.read(partial(admin.get_token, token_id=token_id))

    async def list_tokens(self, agent_id: str) -> list[ApiToken]:
        return await self.engine.read(partial(admin.list_tokens, agent_id=agent_id))

    async def revoke_token(self, token_id: str, *, now: datetime) -> bool:
        return await self.engine.write(partial(admin.revoke_token, token_id=token_id, now=now))

    async def touch_token(self, token_id: str, *, now: datetime) -> None:
        await self.engine.write(partial(admin.touch_token, token_id=token_id, now=now))

    # --- admin edits ----------------------------------------------------------------------
    async def update_agent(
        self,
        agent_id: str,
        *,
        name: str = UNSET,
        role: Role = UNSET,
        team_ids: Sequence[str] = UNSET,
        active: bool = UNSET,
        password_hash: str | None = UNSET,
    ) -> Agent:
        job = partial(
            admin_edits.update_agent,
            agent_id=agent_id,
            name=name,
            role=role,
            team_ids=team_ids,
            active=active,
            password_hash=password_hash,
        )
        return await self.engine.write(job)

    async def update_inbox(
        self,
        inbox_id: str,
        *,
        name: str = UNSET,
        team_id: str | None = UNSET,
        config: Mapping[str, Any] = UNSET,
    ) -> Inbox:
        job = partial(
            admin_edits.update_inbox, inbox_id=inbox_id, name=name, team_id=team_id, config=config
        )
        return await self.engine.write(job)

    async def rename_team(self, team_id: str, name: str) -> Team:
        return await self.engine.write(partial(admin_edits.rename_team, team_id=team_id, name=name))

    async def delete_team(self, team_id: str) -> bool:
        return await self.engine.write(partial(admin_edits.delete_team, team_id=team_id))

    # --- sessions -----------------------------------------------------------------------
    async def create_session(
        self,
        *,
        agent_id: str,
        token_hash: str,
        csrf_secret: str,
        now: datetime,
        expires_at: datetime,
    ) -> Session:
        job = partial(
            sessions.create_session,
            agent_id=agent_id,
            token_hash=token_hash,
            csrf_secret=csrf_secret,
            now=now,
            expires_at=expires_at,
        )
        return await self.engine.write(job)

    async def get_session(self, token_hash: str) -> tuple[Session, Agent] | None:
        return await self.engine.read(partial(sessions.get_session, token_hash=token_hash))

    async def touch_session(self, session_id: str, *, now: datetime) -> bool:
        job = partial(sessions.touch_session, session_id=session_id, now=now)
        return await self.engine.write(job)

    async def delete_session(self, token_hash: str) -> bool:
        return await self.engine.write(partial(sessions.delete_session, token_hash=token_hash))

    async def delete_agent_sessions(self, agent_id: str) -> int:
        job = partial(sessions.delete_agent_sessions, agent_id=agent_id)
        return await self.engine.write(job)

    async def delete_expired_sessions(self, *, now: datetime) -> int:
        return await self.engine.write(partial(sessions.delete_expired_sessions, now=now))

    # --- canned responses -----------------------------------------------------------------
    async def create_canned_response(
        self, *, shortcut: str, title: str, body: str, now: datetime
    ) -> CannedResponse:
        job = partial(
            canned.create_canned_response, shortcut=shortcut, title=title, body=body, now=now
        )
        return await self.engine.write(job)

    async def list_canned_responses(self) -> list[CannedResponse]:
        return await self.engine.read(canned.list_canned_responses)

    async def get_canned_response(self, canned_id: str) -> CannedResponse | None:
        return await self.engine.read(partial(canned.get_canned_response, canned_id=canned_id))

    async def update_canned_response(
        self,
        canned_id: str,
        *,
        shortcut: str = UNSET,
        title: str = UNSET,
        body: str = UNSET,
        now: datetime,
    ) -> CannedResponse:
        job = partial(
            canned.update_canned_response,
            canned_id=canned_id,
            shortcut=shortcut,
            title=title,
            body=body,
            now=now,
        )
        return await self.engine.write(job)

    async def delete_canned_response(self, canned_id: str) -> bool:
        job = partial(canned.delete_canned_response, canned_id=canned_id)
        return await self.engine.write(job)
