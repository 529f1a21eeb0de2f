// Contact Hub inbox: live updates over /ws, the reply box, canned responses and @mentions.
// No inline scripts (CSP script-src 'self'). Customer text is never turned into markup here:
// rows and messages arrive as server-rendered, escaped fragments (parsed by DOMParser, which
// runs no script), and everything else is set with textContent.
//
// Stable data-testid attributes (templates/inbox/*.html), for browser tests:
//   inbox                 the page root (#inbox); data-agent-id, data-conversation-id,
//                         data-customer-id, data-timeline, data-filters, data-last-event-id
//   live-indicator        the live connection; data-state = connecting | live | offline | refused
//   filters, search, filter-status, filter-channel, filter-inbox, filter-team, filter-tag,
//   filter-submit, inbox-option       the list's search and filters
//   views, view-mine, view-unassigned, view-all; count-<view>, unread-<view>   the views
//   conversation-list     the list (ul); conversation-row: data-conversation-id, data-status
//   channel-icon (data-channel), unread-count, row-status, row-priority, row-assignee,
//   search-hit, list-empty, load-more
//   conversation          the open conversation; conversation-status, conversation-priority,
//                         conversation-assignee, snoozed-until, timeline-toggle (data-state)
//   message-list; message: data-message-id, data-conversation-id, data-channel, data-kind
//                         (message | note), data-direction (in | out), data-mentions-me
//   message-channel, message-text, email-html (sandboxed iframe), delivery-status,
//   message-conversation-link, attachment, load-earlier, typing-indicator
//   reply-form, reply-box, reply-toggle, note-toggle, send-button, reply-error,
//   canned-menu, mention-menu (their items: canned-item, mention-item), mention-agents
//   controls; status-form, status-select, snooze-preset, snooze-until, status-submit;
//   priority-select, priority-submit; assign-agent, assign-team, assign-submit;
//   conversation-tag (data-tag), tag-remove, tag-input, tag-add
//   customer-sidebar (data-customer-id, data-stale while an edit holds back a refresh), customer-name, identity (data-kind), attribute-row
//   (data-key), attribute-edit, attribute-save, attribute-remove, attribute-key,
//   attribute-value, attribute-add, customer-tag, customer-tag-remove, customer-tag-input,
//   customer-tag-add, past-conversation, merge-search, merge-find, merge-results,
//   merge-candidate (data-customer-id), merge-button, undo-merge
//   colleagues; presence-dot: data-agent-id, data-state = online | away | offline
//   toasts; mention-toast
"use strict";

(function () {
  const root = document.getElementById("inbox");
  if (!root) return;
  const AWAY_AFTER_MS = 120000; // a hidden tab marks its agent away after this long
  const WATCHDOG_MS = 70000; // no frame (not even a heartbeat) for this long: reconnect
  const TYPING_EVERY_MS = 2000;
  const TYPING_SHOWN_MS = 6000;
  const state = {
    agentId: root.dataset.agentId,
    conversationId: root.dataset.conversationId || null,
    customerId: root.dataset.customerId || null,
    timeline: root.dataset.timeline === "true",
    searching: root.dataset.searching === "true",
    filters: root.dataset.filters || "",
    lastId: root.dataset.lastEventId ? Number(root.dataset.lastEventId) : null,
    ws: null,
    retry: 0,
    lastFrameAt: 0,
    away: false,
    awayTimer: null,
  };
  const byTestId = (id, scope) => (scope || document).querySelector('[data-testid="' + id + '"]');

  // --- fragments -------------------------------------------------------------------------
  function parseItems(html) {
    const doc = new DOMParser().parseFromString("<ul>" + html + "</ul>", "text/html");
    const list = doc.body.querySelector("ul");
    return list ? Array.from(list.children) : [];
  }

  function fetchFragment(url) {
    return window.hubFetch(url, { headers: { "X-Hub-Fragment": "1", Accept: "text/html" } });
  }

  function activate(node) {
    localizeTimes(node);
    if (window.htmx) window.htmx.process(node);
  }

  function localizeTimes(scope) {
    scope.querySelectorAll("time[datetime]").forEach(function (el) {
      const at = new Date(el.getAttribute("datetime"));
      if (!isNaN(at)) el.textContent = at.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
    });
  }

  function withParams(path, extra) {
    const url = new URL(path + state.filters, location.href);
    Object.keys(extra || {}).forEach(function (k) { if (extra[k]) url.searchParams.set(k, extra[k]); });
    return url.pathname + url.search;
  }

  // --- the list --------------------------------------------------------------------------
  const list = byTestId("conversation-list");

  function rowOf(id) {
    return list && list.querySelector('[data-testid="conversation-row"][data-conversation-id="' + CSS.escape(id) + '"]');
  }

  function placeRow(row) {
    const at = row.dataset.lastMessageAt || "";
    const rows = list.querySelectorAll('[data-testid="conversation-row"]');
    const before = Array.from(rows).find(function (r) { return r !== row && (r.dataset.lastMessageAt || "") < at; });
    const empty = byTestId("list-empty", list);
    if (empty) empty.remove();
    if (before) list.insertBefore(row, before);
    else if (!rows.length) list.prepend(row);
    else if (at >= (rows[0].dataset.lastMessageAt || "")) list.prepend(row);
    else {
      const more = list.querySelector(".load-more");
      if (more) return row.remove(); // older than every shown row: "load more" brings it
      list.append(row);
    }
  }

  function refreshRow(id) {
    if (!list || state.searching) return;
    fetchFragment(withParams("/inbox/row/" + encodeURIComponent(id), { current: state.conversationId }))
      .then(function (res) {
        const old = rowOf(id);
        if (res.status !== 200) { if (old) old.remove(); return null; }
        return res.text().then(function (html) {
          const row = parseItems(html)[0];
          if (!row) return;
          activate(row);
          if (old) old.replaceWith(row);
          placeRow(row);
        });
      })
      .catch(function () { /* the next event or a resync brings it */ });
  }

  // --- the open conversation -------------------------------------------------------------
  const messages = byTestId("message-list");

  function showsMessage(data) {
    if (!state.conversationId || !messages) return false;
    if (data.conversation_id === state.conversationId) return true;
    return state.timeline && data.message && data.message.customer_id === state.customerId;
  }

  function insertMessage(item) {
    const id = item.dataset.messageId;
    const old = messages.querySelector('[data-testid="message"][data-message-id="' + CSS.escape(id) + '"]');
    const nearBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 80;
    activate(item);
    if (old) old.replaceWith(item);
    else messages.append(item);
    if (nearBottom || !old) messages.scrollTop = messages.scrollHeight;
  }

  function refreshMessage(id) {
    fetchFragment("/inbox/m/" + encodeURIComponent(id) + "?current=" + encodeURIComponent(state.conversationId))
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        const item = html && parseItems(html)[0];
        if (item) insertMessage(item);
      })
      .catch(function () {});
  }

  function updateHeader(c) {
    const set = function (id, text) { const el = byTestId(id); if (el) el.textContent = text; };
    set("conversation-status", c.status);
    set("conversation-priority", c.priority);
    const option = c.assignee_id && document.querySelector('[data-testid="assign-agent"] option[value="' + CSS.escape(c.assignee_id) + '"]');
    set("conversation-assignee", c.assignee_id ? (option ? option.textContent : "another agent") : "unassigned");
    const status = byTestId("status-select");
    if (status && document.activeElement !== status) { status.value = c.status; toggleSnooze(); }
  }

  let typingTimer = null;
  function showTyping(data) {
    const el = byTestId("typing-indicator");
    if (!el) return;
    clearTimeout(typingTimer);
    if (!data.typing) { el.hidden = true; return; }
    let who = "The customer";
    if (data.who === "agent") {
      const person = document.querySelector('[data-testid="presence-dot"][data-agent-id="' + CSS.escape(data.agent_id || "") + '"]');
      who = person && person.parentElement ? person.parentElement.textContent.trim() : "A colleague";
    }
    el.textContent = who + " is typing…";
    el.hidden = false;
    typingTimer = setTimeout(function () { el.hidden = true; }, TYPING_SHOWN_MS);
  }

  // the open conversation stays read while the agent looks at it (not from a hidden tab)
  let readTimer = null;
  function markRead() {
    if (document.hidden) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      window.hubFetch("/api/v1/conversations/" + encodeURIComponent(state.conversationId), {
        method: "PATCH",
        json: { mark_read: true },
      }).catch(function () {});
    }, 1000);
  }

  function reloadAll() {
    refreshSidebar();
    if (list && !state.searching) {
      fetchFragment(withParams("/inbox/rows", { current: state.conversationId }))
        .then(function (res) { return res.ok ? res.text() : null; })
        .then(function (html) {
          if (html === null) return;
          const items = parseItems(html);
          items.forEach(activate);
          list.replaceChildren.apply(list, items);
        })
        .catch(function () {});
    }
    if (state.conversationId && messages) {
      const url = "/inbox/c/" + encodeURIComponent(state.conversationId) + "/earlier" + (state.timeline ? "?timeline=customer" : "");
      fetchFragment(url)
        .then(function (res) { return res.ok ? res.text() : null; })
        .then(function (html) {
          if (html === null) return;
          const items = parseItems(html);
          items.forEach(activate);
          messages.replaceChildren.apply(messages, items);
          messages.scrollTop = messages.scrollHeight;
        })
        .catch(function () {});
    }
  }

  // --- presence and notices --------------------------------------------------------------
  function setPresence(agentId, presence) {
    document.querySelectorAll('[data-testid="presence-dot"][data-agent-id="' + CSS.escape(agentId) + '"]').forEach(function (dot) {
      dot.dataset.state = presence;
      dot.className = "dot dot-" + presence;
      dot.title = presence;
    });
  }

  function toast(text, href) {
    const box = byTestId("toasts");
    if (!box) return;
    const note = document.createElement("div");
    note.className = "toast";
    note.dataset.testid = "mention-toast";
    note.textContent = text + " ";
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.textContent = "Open";
      note.append(link);
    }
    box.append(note);
    setTimeout(function () { note.remove(); }, 10000);
  }

  // --- the socket ------------------------------------------------------------------------
  function setLive(value) {
    const el = byTestId("live-indicator");
    if (!el) return;
    el.dataset.state = value;
    el.textContent = { connecting: "connecting…", live: "live", offline: "offline, reconnecting…", refused: "disconnected" }[value];
  }

  // --- the customer file ------------------------------------------------------------------
  // Re-rendered by the server when a customer.* event names the open conversation's customer.
  // While the agent is working in it (focus inside, or an edit not yet saved) the refresh
  // waits, and the sidebar is marked stale until the edit is saved or cleared.
  let sidebarWaiting = false;
  let sidebarSeq = 0; // the latest fetch wins, whatever order the responses come back in

  function edited(input) {
    if (input.type === "hidden") return false;
    if (input.type === "checkbox" || input.type === "radio") return input.checked !== input.defaultChecked;
    if (input.tagName === "SELECT") return Array.from(input.options).some(function (o) { return o.selected !== o.defaultSelected; });
    return input.value !== input.defaultValue;
  }

  function sidebarBusy(el) {
    return el.contains(document.activeElement) || Array.from(el.querySelectorAll("input, textarea, select")).some(edited);
  }

  function refreshWhenIdle(el) {
    el.dataset.stale = "true";
    if (sidebarWaiting) return;
    sidebarWaiting = true;
    const check = function () {
      setTimeout(function () {
        if (el.isConnected && sidebarBusy(el)) return;
        el.removeEventListener("focusout", check);
        el.removeEventListener("input", check);
        sidebarWaiting = false;
        if (el.isConnected) refreshSidebar();
      }, 0);
    };
    el.addEventListener("focusout", check);
    el.addEventListener("input", check);
  }

  function refreshSidebar() {
    const old = byTestId("customer-sidebar");
    if (!old || !state.conversationId) return;
    if (sidebarBusy(old)) { refreshWhenIdle(old); return; }
    const seq = ++sidebarSeq;
    fetchFragment("/inbox/c/" + encodeURIComponent(state.conversationId) + "/sidebar" + window.location.search)
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        if (html === null || seq !== sidebarSeq) return; // a later refresh is on its way
        const doc = new DOMParser().parseFromString(html, "text/html");
        const fresh = doc.body.querySelector('[data-testid="customer-sidebar"]');
        const current = byTestId("customer-sidebar");
        if (!fresh || !current) return;
        if (sidebarBusy(current)) { refreshWhenIdle(current); return; } // began editing meanwhile
        const node = document.adoptNode(fresh);
        activate(node);
        current.replaceWith(node);
        state.customerId = node.dataset.customerId || state.customerId; // after a merge
      })
      .catch(function () { /* the next event or a resync brings it */ });
  }

  function send(frame) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(frame));
  }

  function onEvent(type, data) {
    if (type === "conversation.created" || type === "conversation.updated") {
      refreshRow(data.conversation.id);
      if (data.conversation.id === state.conversationId) updateHeader(data.conversation);
    } else if (type === "message.created" || type === "message.updated") {
      if (showsMessage(data)) refreshMessage(data.message.id);
      if (type === "message.created" && data.conversation_id === state.conversationId && data.message.direction === "in") markRead();
    } else if (type === "conversation.typing") {
      if (data.conversation_id === state.conversationId) showTyping(data);
    } else if (type === "agent.presence") {
      setPresence(data.agent_id, data.state);
    } else if (type === "customer.updated" || type === "customer.merged" || type === "customer.unmerged") {
      if ((data.customer_ids || []).indexOf(state.customerId) !== -1) refreshSidebar();
    } else if (type === "note.mention") {
      toast("You were mentioned in a note.", "/inbox/c/" + encodeURIComponent(data.conversation_id));
    }
  }

  function onFrame(frame) {
    state.lastFrameAt = Date.now();
    if (frame.type === "hello") {
      state.retry = 0;
      setLive("live");
      if (state.lastId === null) state.lastId = frame.last_id;
      document.querySelectorAll('[data-testid="presence-dot"]').forEach(function (dot) {
        setPresence(dot.dataset.agentId, (frame.presence || {})[dot.dataset.agentId] || "offline");
      });
      if (state.away) send({ type: "away", away: true });
    } else if (frame.type === "event") {
      if (state.lastId !== null && frame.id <= state.lastId) return; // a replayed duplicate
      state.lastId = frame.id;
      onEvent(frame.event, frame.data);
    } else if (frame.type === "heartbeat") {
      if (state.lastId === null || frame.last_id > state.lastId) state.lastId = frame.last_id;
    } else if (frame.type === "resync") {
      state.lastId = frame.last_id;
      reloadAll();
    }
  }

  function connect() {
    setLive("connecting");
    const url = new URL("/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (state.lastId !== null) url.searchParams.set("since", String(state.lastId));
    const ws = new WebSocket(url.href);
    state.ws = ws;
    state.lastFrameAt = Date.now();
    ws.addEventListener("message", function (e) {
      try { onFrame(JSON.parse(e.data)); } catch (err) { console.error("inbox: bad frame", err); }
    });
    ws.addEventListener("close", function (e) {
      if (state.ws === ws) state.ws = null;
      if (e.code === 4401) {
        location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
        return;
      }
      if (e.code === 4403) { setLive("refused"); return; }
      setLive("offline");
      // jittered backoff: many tabs reconnecting after a restart do not arrive together
      const delay = Math.min(30000, 1000 * Math.pow(2, state.retry)) * (0.5 + Math.random());
      state.retry = Math.min(state.retry + 1, 5);
      setTimeout(connect, delay);
    });
  }

  setInterval(function () {
    if (state.ws && Date.now() - state.lastFrameAt > WATCHDOG_MS) state.ws.close();
  }, 10000);

  document.addEventListener("visibilitychange", function () {
    clearTimeout(state.awayTimer);
    if (document.hidden) {
      state.awayTimer = setTimeout(function () { state.away = true; send({ type: "away", away: true }); }, AWAY_AFTER_MS);
    } else if (state.away) {
      state.away = false;
      send({ type: "away", away: false });
    }
  });

  // --- the status form -------------------------------------------------------------------
  function toggleSnooze() {
    const status = byTestId("status-select");
    const fields = byTestId("snooze-fields");
    if (status && fields) fields.hidden = status.value !== "snoozed";
  }
  const statusSelect = byTestId("status-select");
  if (statusSelect) statusSelect.addEventListener("change", toggleSnooze);
  document.querySelectorAll("input[data-tz-offset]").forEach(function (el) {
    el.value = String(new Date().getTimezoneOffset());
  });

  // --- start -----------------------------------------------------------------------------
  localizeTimes(document);
  toggleSnooze();
  if (messages) messages.scrollTop = messages.scrollHeight;
  window.hubInbox = { state: state, send: send, insertMessage: insertMessage, parseItems: parseItems, TYPING_EVERY_MS: TYPING_EVERY_MS };
  connect();
})();
