// Contact Hub inbox: the reply box. Sends replies and notes without a reload, offers canned
// responses after "/" and colleagues after "@" (in a note), and tells colleagues (and a
// web-chat visitor) that the agent is typing. Needs inbox.js (window.hubInbox) first.
// The data-testid attributes are listed at the top of inbox.js.
"use strict";

(function () {
  const inbox = window.hubInbox;
  const form = document.querySelector('[data-testid="reply-form"]');
  if (!inbox || !form) return;
  const box = form.querySelector('[data-testid="reply-box"]');
  const errorBox = form.querySelector('[data-testid="reply-error"]');
  const sendButton = form.querySelector('[data-testid="send-button"]');
  const cannedMenu = form.querySelector('[data-testid="canned-menu"]');
  const mentionMenu = form.querySelector('[data-testid="mention-menu"]');
  const conversationId = inbox.state.conversationId;
  let typingSentAt = 0;
  let menu = null; // { el, items, index, pick }
  let cannedTimer = null;

  const mode = function () { const m = form.querySelector('input[name="mode"]:checked'); return m ? m.value : "reply"; };

  function newKey() {
    const random = window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now();
    return "web:" + random;
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  // --- typing ----------------------------------------------------------------------------
  function typing(active) {
    if (mode() !== "reply") return; // a note is private: nobody hears about it
    const now = Date.now();
    if (active && now - typingSentAt < inbox.TYPING_EVERY_MS) return;
    if (!active && !typingSentAt) return;
    typingSentAt = active ? now : 0;
    inbox.send({ type: "typing", conversation_id: conversationId, typing: active });
  }

  // --- sending ---------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!box.value.trim()) { showError("Write something first."); return; }
    showError("");
    sendButton.disabled = true;
    const body = new URLSearchParams(new FormData(form));
    window.hubFetch(form.action, {
      method: "POST",
      body: body,
      headers: { "X-Hub-Fragment": "1", Accept: "text/html" },
    })
      .then(function (res) {
        if (!res.ok) {
          return res.json().then(
            function (err) {
              // the box's key went with another text: the next send is a new message
              if (err.error && err.error.code === "idempotency_key_reused") {
                form.querySelector('input[name="idempotency_key"]').value = newKey();
              }
              showError((err.error && err.error.message) || "Sending failed.");
            },
            function () { showError("Sending failed (HTTP " + res.status + ")."); }
          );
        }
        return res.text().then(function (html) {
          const item = inbox.parseItems(html)[0];
          if (item) inbox.insertMessage(item);
          box.value = "";
          form.querySelector('input[name="idempotency_key"]').value = newKey();
          typing(false);
        });
      })
      .catch(function () { showError("The hub cannot be reached; your text is still here."); })
      .finally(function () { sendButton.disabled = false; box.focus(); });
  });

  form.addEventListener("change", function (event) {
    if (event.target.name === "mode") {
      form.classList.toggle("note-mode", mode() === "note");
      if (mode() === "note") typing(false);
    }
  });

  // --- suggestion menus (canned responses, mentions) ----------------------------------------
  function closeMenu() {
    if (menu) menu.el.hidden = true;
    menu = null;
  }

  function openMenu(el, entries, testid, pick) {
    el.replaceChildren();
    if (!entries.length) { closeMenu(); return; }
    entries.forEach(function (entry, i) {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.dataset.testid = testid;
      li.dataset.value = entry.value;
      const strong = document.createElement("strong");
      strong.textContent = entry.label;
      li.append(strong, document.createTextNode(" " + entry.detail));
      li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(entries[i]); });
      el.append(li);
    });
    el.hidden = false;
    menu = { el: el, entries: entries, index: 0, pick: pick };
    highlight();
  }

  function highlight() {
    Array.from(menu.el.children).forEach(function (li, i) { li.setAttribute("aria-selected", String(i === menu.index)); });
  }

  function replaceToken(token, text) {
    const caret = box.selectionStart;
    const start = caret - token.length;
    box.value = box.value.slice(0, start) + text + box.value.slice(caret);
    const at = start + text.length;
    box.setSelectionRange(at, at);
    box.focus();
    closeMenu();
  }

  function tokenBeforeCaret(pattern) {
    const match = pattern.exec(box.value.slice(0, box.selectionStart));
    return match ? match[2] : null;
  }

  function offerCanned(prefix) {
    clearTimeout(cannedTimer);
    cannedTimer = setTimeout(function () {
      const url = "/inbox/c/" + encodeURIComponent(conversationId) + "/canned?q=" + encodeURIComponent(prefix);
      window.hubFetch(url)
        .then(function (res) { return res.ok ? res.json() : { items: [] }; })
        .then(function (found) {
          if (tokenBeforeCaret(/(^|\s)(\/[a-z0-9_-]{0,32})$/) !== "/" + prefix) return; // typed on
          const entries = found.items.map(function (c) { return { value: c.text, label: "/" + c.shortcut, detail: c.title }; });
          openMenu(cannedMenu, entries, "canned-item", function (entry) { replaceToken("/" + prefix, entry.value); });
        })
        .catch(function () {});
    }, 120);
  }

  function offerMentions(prefix) {
    const wanted = prefix.toLowerCase();
    const people = Array.from(document.querySelectorAll('[data-testid="mention-agents"] li'));
    const entries = people
      .filter(function (p) { return p.dataset.handle.startsWith(wanted) || p.dataset.name.toLowerCase().startsWith(wanted); })
      .slice(0, 8)
      .map(function (p) { return { value: p.dataset.handle, label: "@" + p.dataset.handle, detail: p.dataset.name }; });
    openMenu(mentionMenu, entries, "mention-item", function (entry) { replaceToken("@" + prefix, "@" + entry.value + " "); });
  }

  box.addEventListener("input", function () {
    typing(box.value.trim() !== "");
    const canned = tokenBeforeCaret(/(^|\s)(\/[a-z0-9_-]{0,32})$/);
    const mention = mode() === "note" ? tokenBeforeCaret(/(^|\s)(@[\w.+-]{0,64})$/) : null;
    if (canned !== null) offerCanned(canned.slice(1));
    else if (mention !== null) offerMentions(mention.slice(1));
    else closeMenu();
  });

  box.addEventListener("keydown", function (event) {
    if (menu) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        menu.index = (menu.index + step + menu.entries.length) % menu.entries.length;
        highlight();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        menu.pick(menu.entries[menu.index]);
        return;
      }
      if (event.key === "Escape") { closeMenu(); return; }
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  box.addEventListener("blur", function () { typing(false); setTimeout(closeMenu, 150); });
})();
