/*
 * Contact Hub web-chat widget. Vanilla JS, no dependencies.
 *
 * Embed on any page:
 *   <script src="https://HUB/api/v1/webchat/widget.js" data-inbox="INBOX_ID" async></script>
 * Optional attributes of that script tag:
 *   data-identifier, data-identifier-hash  the site's user id and its hex HMAC-SHA256 under
 *                                          the inbox's identity secret (identity verification)
 *   data-name                              the visitor's display name
 *   data-inbox-param="inbox"               take the inbox id from this query parameter of the
 *                                          page instead (the demo page uses it)
 *   data-open="true"                       start with the panel open
 * JS API: window.ContactHubChat.open(), .close(), .send(text)
 *
 * Isolation: everything lives in an open shadow root of one host element, so the page's CSS
 * does not reach the widget and the widget's CSS does not leak out. Message text is only
 * ever set with textContent: neither customer nor agent text can run script.
 * The visitor token is kept in localStorage ("contact-hub-chat:<inbox>:token"), so a
 * returning visitor lands in the same conversation.
 *
 * Test hooks (stable; inside the shadow root of #contact-hub-chat, which Playwright's CSS
 * selectors pierce):
 *   #contact-hub-chat                 host element, data-testid="chat-widget",
 *                                     data-connection="connecting|open|closed"
 *   [data-testid=chat-bubble]         the round button that opens/closes the panel
 *   [data-testid=chat-panel]          the panel, data-state="open|closed"
 *   [data-testid=chat-title]          the inbox's title
 *   [data-testid=chat-status]         status line, data-online="true|false",
 *                                     data-assigned="true|false", data-queue-position="N|"
 *   [data-testid=chat-messages]       the message list
 *   [data-testid=chat-message]        one message: data-id (hub message id, once known),
 *                                     data-from="visitor|agent", data-state="pending|sent|failed"
 *   [data-testid=chat-typing]         "agent is typing" line; hidden attribute when not
 *   [data-testid=chat-input]          the text box; [data-testid=chat-send] the send button
 *   [data-testid=chat-offline]        offline email form (hidden while agents are online)
 *   [data-testid=chat-email-input], [data-testid=chat-email-submit]
 *   [data-testid=chat-email-result]   data-result="saved|error"
 *   [data-testid=chat-error]          the last error, data-code="<error code>"; hidden if none
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.ContactHubChat) return;
  var param = script.getAttribute("data-inbox-param");
  var inbox = param
    ? new URLSearchParams(window.location.search).get(param)
    : script.getAttribute("data-inbox");
  if (!inbox) {
    console.error("contact-hub chat: no inbox (set data-inbox on the script tag)");
    return;
  }
  var origin = new URL(script.src, window.location.href).origin;
  var wsUrl = origin.replace(/^http/, "ws") + "/api/v1/webchat/ws?inbox=" + encodeURIComponent(inbox);
  var tokenKey = "contact-hub-chat:" + inbox + ":token";
  var user = {
    identifier: script.getAttribute("data-identifier"),
    identifier_hash: script.getAttribute("data-identifier-hash"),
    name: script.getAttribute("data-name"),
  };

  var CSS = [
    // the page's styles reach only the host element (reset inline below) and what it
    // inherits; .chb sets every inherited property the widget relies on
    ".chb{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330;",
    "text-align:left;letter-spacing:normal;text-transform:none;visibility:visible}",
    "*{box-sizing:border-box}",
    ".bubble{width:56px;height:56px;border-radius:50%;border:0;background:#2f6fed;color:#fff;",
    "cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);float:right;display:flex;",
    "align-items:center;justify-content:center}",
    ".panel{position:absolute;right:0;bottom:68px;width:340px;max-width:calc(100vw - 40px);",
    "height:460px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;",
    "box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}",
    ".panel[data-state=closed]{display:none}",
    ".head{background:#2f6fed;color:#fff;padding:12px 14px}",
    ".title{font-weight:600;font-size:15px}.status{font-size:12px;opacity:.9}",
    ".list{flex:1;overflow-y:auto;padding:10px;background:#f5f7fb}",
    ".msg{max-width:80%;margin:4px 0;padding:7px 10px;border-radius:10px;white-space:pre-wrap;",
    "word-wrap:break-word;clear:both}",
    ".msg[data-from=visitor]{float:right;background:#2f6fed;color:#fff}",
    ".msg[data-from=agent]{float:left;background:#fff;border:1px solid #dde3ee}",
    ".msg[data-state=pending]{opacity:.6}.msg[data-state=failed]{background:#c0392b}",
    ".author{display:block;font-size:11px;opacity:.7}",
    ".greeting{color:#5a6375;font-size:13px;margin:4px 0 8px}",
    ".typing{font-size:12px;color:#5a6375;padding:2px 12px}",
    ".error{font-size:12px;color:#c0392b;padding:2px 12px}",
    ".offline{padding:8px 10px;border-top:1px solid #dde3ee;font-size:13px}",
    ".offline input{width:70%;padding:6px;border:1px solid #c8d0de;border-radius:6px}",
    ".compose{display:flex;border-top:1px solid #dde3ee}",
    "textarea{flex:1;border:0;padding:10px;resize:none;font:inherit;height:48px;outline:none}",
    "button.send,.offline button{border:0;background:#2f6fed;color:#fff;padding:0 14px;cursor:pointer}",
    ".offline button{padding:6px 10px;border-radius:6px}",
    "[hidden]{display:none!important}",
  ].join("");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text; // text is data, never markup
    return node;
  }

  // --- the DOM ------------------------------------------------------------------------------
  var host = el("div", {
    id: "contact-hub-chat",
    "data-testid": "chat-widget",
    "data-connection": "connecting",
    style: "all:initial!important;position:fixed!important;right:20px!important;" +
      "bottom:20px!important;z-index:2147483000!important;display:block!important",
  });
  var shadow = host.attachShadow({ mode: "open" });
  shadow.appendChild(el("style", {}, CSS));
  var root = el("div", { class: "chb" });
  shadow.appendChild(root);
  var panel = el("div", { class: "panel", id: "chb-panel", "data-testid": "chat-panel", "data-state": "closed", role: "dialog" });
  var head = el("div", { class: "head" });
  var title = el("div", { class: "title", "data-testid": "chat-title" }, "Chat");
  var status = el("div", { class: "status", "data-testid": "chat-status", "data-online": "", "data-assigned": "false", "data-queue-position": "" }, "Connecting…");
  head.appendChild(title);
  head.appendChild(status);
  var list = el("div", { class: "list", id: "chb-messages", "data-testid": "chat-messages", "aria-live": "polite" });
  var greeting = el("div", { class: "greeting", "data-testid": "chat-greeting" });
  list.appendChild(greeting);
  var typing = el("div", { class: "typing", "data-testid": "chat-typing", hidden: "" }, "Agent is typing…");
  var error = el("div", { class: "error", "data-testid": "chat-error", "data-code": "", hidden: "" });
  var offline = el("form", { class: "offline", "data-testid": "chat-offline", hidden: "" });
  var offlineText = el("div", { "data-testid": "chat-offline-message" });
  var emailInput = el("input", { type: "email", placeholder: "you@example.com", "data-testid": "chat-email-input", "aria-label": "Your email" });
  var emailSubmit = el("button", { type: "submit", "data-testid": "chat-email-submit" }, "Save");
  var emailResult = el("div", { "data-testid": "chat-email-result", "data-result": "" });
  [offlineText, emailInput, emailSubmit, emailResult].forEach(function (n) { offline.appendChild(n); });
  var compose = el("form", { class: "compose" });
  var input = el("textarea", { "data-testid": "chat-input", id: "chb-input", placeholder: "Write a message…", "aria-label": "Message", maxlength: "4000" });
  var sendButton = el("button", { type: "submit", class: "send", "data-testid": "chat-send" }, "Send");
  compose.appendChild(input);
  compose.appendChild(sendButton);
  [head, list, typing, error, offline, compose].forEach(function (n) { panel.appendChild(n); });
  var bubble = el("button", { class: "bubble", id: "chb-bubble", "data-testid": "chat-bubble", "aria-label": "Open chat", type: "button" });
  var svgNs = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(svgNs, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("width", "26");
  icon.setAttribute("height", "26");
  var path = document.createElementNS(svgNs, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
  icon.appendChild(path);
  bubble.appendChild(icon);
  root.appendChild(panel);
  root.appendChild(bubble);

  // --- state --------------------------------------------------------------------------------
  var ws = null;
  var token = null;
  try { token = window.localStorage.getItem(tokenKey); } catch (e) { token = null; }
  var lastId = null; // last message shown: resume point after a reconnect
  var shown = {}; // message id -> element
  var pending = []; // unacked {client_id, text, node}, resent after a reconnect (deduped by id)
  var attempt = 0;
  var typingSentAt = 0;
  var typingTimer = null;
  var emailSaved = false;
  var online = true;
  var counter = 0;

  function newClientId() {
    counter += 1;
    return "c" + Date.now().toString(36) + "-" + counter + "-" + Math.random().toString(36).slice(2, 8);
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function showError(code, message) {
    error.setAttribute("data-code", code || "");
    error.textContent = message || "";
    if (message) error.removeAttribute("hidden"); else error.setAttribute("hidden", "");
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function render(m) {
    if (shown[m.id]) return;
    var node = null;
    if (m.from === "visitor" && m.client_id) {
      for (var i = 0; i < pending.length; i++) {
        if (pending[i].client_id === m.client_id) { node = pending[i].node; pending.splice(i, 1); break; }
      }
    }
    if (!node) {
      node = el("div", { class: "msg", "data-testid": "chat-message", "data-from": m.from });
      if (m.from === "agent" && m.author) node.appendChild(el("span", { class: "author" }, m.author));
      node.appendChild(document.createTextNode(m.text || ""));
      list.appendChild(node);
    }
    node.setAttribute("data-id", m.id);
    node.setAttribute("data-state", "sent");
    shown[m.id] = node;
    lastId = m.id;
    if (m.from === "agent") typing.setAttribute("hidden", "");
    scrollDown();
  }

  function onAck(frame) {
    for (var i = 0; i < pending.length; i++) {
      var p = pending[i];
      if (p.client_id === frame.client_id) {
        pending.splice(i, 1);
        p.node.setAttribute("data-state", "sent");
        p.node.setAttribute("data-id", frame.id);
        shown[frame.id] = p.node;
        return;
      }
    }
  }

  function onStatus(s) {
    online = !!s.online;
    status.setAttribute("data-online", String(online));
    status.setAttribute("data-assigned", String(!!s.assigned));
    status.setAttribute("data-queue-position", s.queue_position == null ? "" : String(s.queue_position));
    var text;
    if (s.assigned && s.agent_name) text = s.agent_name + " is with you";
    else if (s.queue_position != null) {
      text = "You are #" + s.queue_position + " in the queue";
      if (s.estimated_wait_seconds != null) text += " (about " + Math.max(1, Math.round(s.estimated_wait_seconds / 60)) + " min)";
    } else if (s.queue_long) text = "Many people are waiting; we will be with you soon";
    else text = online ? "We are online" : "We are offline";
    status.textContent = text;
    if (!online && !emailSaved) offline.removeAttribute("hidden"); else offline.setAttribute("hidden", "");
  }

  function onError(frame) {
    showError(frame.code, frame.message);
    if (frame.code === "token_invalid" || frame.code === "token_expired") {
      try { window.localStorage.removeItem(tokenKey); } catch (e) { /* private mode */ }
      if (token) { token = null; hello(); } // start over as a new visitor, once
      return;
    }
    if (frame.code === "email_not_attached" || frame.code === "invalid_email") {
      emailResult.setAttribute("data-result", "error");
      emailResult.textContent = frame.message;
    }
    if (!frame.client_id) return;
    for (var i = 0; i < pending.length; i++) {
      var p = pending[i];
      if (p.client_id !== frame.client_id) continue;
      if (frame.code === "rate_limited" || frame.code === "internal_error") {
        var delay = Math.max(0.5, frame.retry_after || 1) * 1000;
        setTimeout(function () { send({ type: "message", client_id: p.client_id, text: p.text }); }, delay);
      } else {
        p.node.setAttribute("data-state", "failed");
        pending.splice(i, 1);
      }
      return;
    }
  }

  var handlers = {
    welcome: function (f) {
      token = f.token;
      try { window.localStorage.setItem(tokenKey, token); } catch (e) { /* private mode */ }
      title.textContent = f.title;
      greeting.textContent = f.greeting;
      offlineText.textContent = f.offline_message;
      showError("", "");
      send({ type: "resume", after: lastId });
      pending.forEach(function (p) { send({ type: "message", client_id: p.client_id, text: p.text }); });
    },
    history: function (f) {
      if (f.reset) {
        Object.keys(shown).forEach(function (id) {
          var n = shown[id];
          if (n.parentNode && n.getAttribute("data-state") === "sent") n.parentNode.removeChild(n);
        });
        shown = {};
      }
      f.messages.forEach(render);
    },
    message: function (f) { render(f.message); },
    ack: onAck,
    status: onStatus,
    typing: function (f) {
      if (f.typing) typing.removeAttribute("hidden"); else typing.setAttribute("hidden", "");
      clearTimeout(typingTimer);
      if (f.typing) typingTimer = setTimeout(function () { typing.setAttribute("hidden", ""); }, 6000);
    },
    email_saved: function () {
      emailSaved = true;
      emailInput.setAttribute("hidden", "");
      emailSubmit.setAttribute("hidden", "");
      emailResult.setAttribute("data-result", "saved");
      emailResult.textContent = "Thanks! We will write to you there.";
    },
    resync: function () { send({ type: "resume", after: lastId }); },
    error: onError,
  };

  function hello() {
    send({ type: "hello", token: token, identifier: user.identifier, identifier_hash: user.identifier_hash, name: user.name });
  }

  function connect() {
    host.setAttribute("data-connection", "connecting");
    ws = new WebSocket(wsUrl);
    ws.onopen = function () {
      attempt = 0;
      host.setAttribute("data-connection", "open");
      hello();
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      var handler = handlers[frame.type];
      if (handler) handler(frame);
    };
    ws.onclose = function () {
      host.setAttribute("data-connection", "closed");
      ws = null;
      // jittered exponential backoff: thousands of widgets must not reconnect in step
      attempt += 1;
      var delay = Math.min(30000, 500 * Math.pow(2, attempt - 1)) * (0.5 + Math.random());
      setTimeout(connect, delay);
    };
  }

  function submitMessage(text) {
    text = (text || "").trim();
    if (!text) return;
    var p = { client_id: newClientId(), text: text };
    p.node = el("div", { class: "msg", "data-testid": "chat-message", "data-from": "visitor", "data-state": "pending" }, text);
    list.appendChild(p.node);
    pending.push(p);
    scrollDown();
    send({ type: "message", client_id: p.client_id, text: text }); // else resent on reconnect
    typingSentAt = 0;
    send({ type: "typing", typing: false });
  }

  compose.addEventListener("submit", function (event) {
    event.preventDefault();
    submitMessage(input.value);
    input.value = "";
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      compose.requestSubmit();
    }
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (input.value && now - typingSentAt > 2000) {
      typingSentAt = now;
      send({ type: "typing", typing: true });
    }
  });
  offline.addEventListener("submit", function (event) {
    event.preventDefault();
    emailResult.setAttribute("data-result", "");
    emailResult.textContent = "";
    send({ type: "email", address: emailInput.value.trim() });
  });

  function setOpen(open) {
    panel.setAttribute("data-state", open ? "open" : "closed");
    bubble.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    if (open) { input.focus(); scrollDown(); }
  }
  bubble.addEventListener("click", function () {
    setOpen(panel.getAttribute("data-state") !== "open");
  });

  window.ContactHubChat = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    send: submitMessage,
  };
  function mount() {
    document.body.appendChild(host);
    if (script.getAttribute("data-open") === "true") setOpen(true);
    connect();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
