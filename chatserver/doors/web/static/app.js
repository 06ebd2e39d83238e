// The chat page: one WebSocket to /ws speaking the JSON of docs/web.md.
// Text from the network is only ever set with textContent, never as HTML
// (links are built by ChatText.appendLinked, http and https only).
"use strict";

(function () {
  const T = window.ChatText;
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const key = T.nameKey;
  const srOnly = (text) => el("span", "sr-only", text);

  const state = {
    pendingShow: null,     // a conversation asked for (a room to join, a private one): shown once there
    ws: null,
    server: "chat",
    name: "",
    password: "",
    signup: false,         // sign up (register the name) once connected
    loggedIn: false,
    wantOpen: false,       // reconnect when the connection drops
    retry: 0,
    retryTimer: null,
    countdown: null,
    maxText: 4096,         // bytes of UTF-8 in a line (hello's maxMessage less the envelope)
    convs: new Map(),      // key -> conversation
    order: [],             // room keys, in the order joined
    current: null,         // key of the conversation shown
    sent: [],              // input history
    sentAt: 0,
    completion: null,
    search: null,          // the words of the results shown
    searchPaging: false,   // an older page was asked for: add to them
    inflight: [],          // lines sent, not yet taken by the server (oldest first)
    outbox: [],            // lines typed while disconnected, sent on reconnecting
    away: 0,               // lines that came while the tab was hidden
    awayMention: false,
    lastDay: null,         // the day of the last line in the log shown
    newBelow: 0,           // lines that came below while scrolled up
    finder: [],            // the finder's matches
    finderAt: 0,
    account: false,        // logged in to an account: the page moves its read markers
    readTimer: null,       // the coalesced report of what was read
    readsSent: 0,          // read messages sent and not answered yet
  };

  // Conversations: rooms ("#dev") and private ones ("@bob").

  function conv(id, title, isRoom) {
    let c = state.convs.get(id);
    if (!c) {
      c = { id, title, isRoom, topic: "", lastTopic: null, members: [], roles: {}, items: [], ids: new Set(),
            unread: 0, mentions: 0, firstUnread: null, markAt: null, joined: isRoom, unreported: false,
            more: true, noMore: false, loadingOlder: 0 };
      state.convs.set(id, c);
      if (isRoom) state.order.push(id);
    }
    return c;
  }
  const roomConv = (room) => conv(key(room), room, true);
  const privConv = (name) => conv("@" + key(name), name, false);
  const currentConv = () => state.convs.get(state.current);
  const isMe = (name) => key(name) === key(state.name);
  const pageHidden = () => document.visibilityState === "hidden";

  // Lines. An item: {kind, from, text, id, time, history, mention, ...}.

  function line(c, item) {
    if (item.id !== undefined) {
      if (c.ids.has(item.id)) return;
      c.ids.add(item.id);
    }
    if (item.time === undefined) item.time = Date.now() / 1000;
    const said = item.kind === "message" || item.kind === "action" || item.kind === "private";
    if (said && !item.history && item.from && !isMe(item.from)) {
      item.mention = T.mentions(item.text, state.name);
      attend(c, item);
    }
    if (said && item.from && !isMe(item.from)) c.unreported = true;
    c.items.push(item);
    if (c.items.length > 2000) c.items.splice(0, c.items.length - 2000);
    if (c.id === state.current) {
      append(item);
      if (said) wantRead();
    }
  }

  // Read markers (an account's): the conversation shown on a visible,
  // focused page whose log is scrolled to its end is read. The server is
  // told (a `read` message) once for a burst of lines, READ_DELAY after
  // the first, with the id of the last line shown (none when that line
  // has none, a private one: the newest line then).

  const READ_DELAY = 1000;

  function reading() {
    return state.account && state.loggedIn && !pageHidden() && document.hasFocus()
      && atBottom($("log"));
  }

  function wantRead() {
    const c = currentConv();
    if (!c || !c.unreported || !reading() || state.readTimer) return;
    state.readTimer = setTimeout(sendRead, READ_DELAY);
  }

  function sendRead() {
    state.readTimer = null;
    const c = currentConv();
    if (!c || !c.unreported || !reading()) return;
    let last = null;
    for (let i = c.items.length - 1; i >= 0 && !last; i--) {
      const kind = c.items[i].kind;
      if (kind === "message" || kind === "action" || kind === "private" || kind === "topic") last = c.items[i];
    }
    if (!last) return;
    const message = { type: "read", target: c.title };
    if (last.id !== undefined) message.id = last.id;
    if (!send(message)) return;
    c.unreported = false;
    state.readsSent += 1;
  }

  // Attention: unread counts, badges, the title, notifications.

  function attend(c, item) {
    const loud = item.mention || !c.isRoom;
    if (c.id !== state.current || pageHidden()) {
      c.unread += 1;
      if (loud) c.mentions += 1;
      if (!c.firstUnread) c.firstUnread = item;
      renderLists();
    }
    if (pageHidden()) {
      state.away += 1;
      if (loud) state.awayMention = true;
      renderTitle();
      if (loud) notify(c, item);
    }
  }

  function renderTitle() {
    document.title = state.away
      ? `(${state.away}${state.awayMention ? "*" : ""}) ${state.server}` : state.server;
  }

  function askToNotify() {
    // Asked once, on the first login of this browser (a user's gesture).
    if (!("Notification" in window) || Notification.permission !== "default") return;
    try {
      if (localStorage.getItem("chat.notifications-asked")) return;
      localStorage.setItem("chat.notifications-asked", "1");
    } catch (err) { /* no storage: ask anyway */ }
    Notification.requestPermission();
  }

  function notify(c, item) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const title = c.isRoom ? `${item.from} in ${c.title}` : `${item.from} (private)`;
    const n = new Notification(title, { body: item.text.slice(0, 200), tag: c.id });
    n.onclick = () => { window.focus(); show(c.id); n.close(); };
  }

  function cameBack() {
    if (pageHidden()) return;
    state.away = 0;
    state.awayMention = false;
    renderTitle();
    const c = currentConv();
    if (c && c.unread) show(c.id, { keep: true });
    else wantRead();
  }

  // The log: an <ol> in a role="log" live region, both made anew on a
  // switch (so a screen reader announces the lines that come, not the whole
  // room again).

  function timeNode(t) {
    const d = new Date(t * 1000);
    const node = el("time", "time", T.clock(d));
    node.dateTime = d.toISOString();
    node.title = T.fullDate(d);
    return node;
  }

  function textNode(text) {
    const span = el("span", "text");
    const short = T.fold(text);
    if (short === null) {
      T.appendLinked(span, text);
      return span;
    }
    const body = el("span", "folded");
    T.appendLinked(body, short + "…");
    const more = el("button", "show-more", "show more");
    more.type = "button";
    more.setAttribute("aria-expanded", "false");
    more.addEventListener("click", () => {
      const open = more.getAttribute("aria-expanded") === "true";
      body.replaceChildren();
      T.appendLinked(body, open ? short + "…" : text);
      more.setAttribute("aria-expanded", String(!open));
      more.textContent = open ? "show more" : "show less";
    });
    span.append(body, " ", more);
    return span;
  }

  function sender(name, prefix) {
    return el("span", "sender " + T.colourClass(name), prefix + name);
  }

  function itemNode(item) {
    const li = el("li", item.history ? "history" : "");
    li.dataset.kind = item.kind;
    if (item.id !== undefined) li.dataset.id = item.id;
    if (item.kind === "history-mark") {
      li.className = "history-mark";
      li.textContent = item.text;
      return li;
    }
    li.appendChild(timeNode(item.time));
    if (item.kind === "message" || (item.kind === "private" && !item.act)) {
      li.append(sender(item.from, ""), textNode(item.text));
    } else if (item.kind === "action" || item.kind === "private") {
      li.classList.add("action");
      li.append(sender(item.from, "* "), textNode(item.text));
    } else if (item.kind === "topic") {
      li.classList.add("notice", "topic-line");
      li.appendChild(el("span", "text", item.text
        ? `${item.from} set the topic: ${item.text}` : `${item.from} cleared the topic`));
    } else if (item.kind === "pending") {
      li.classList.add("pending");
      li.dataset.pending = item.serial;
      li.append(el("span", "text", item.shown), " ",
        el("span", "pending-state", item.queued ? "(not sent yet: waiting for the connection)" : "(sending…)"));
    } else if (item.kind === "rooms") {
      li.classList.add("notice", "info");
      li.appendChild(el("span", "text", `Rooms (${item.rooms.length}):`));
      const ul = el("ul", "room-links");
      for (const r of item.rooms) {
        const b = el("button", "room-link", r.name);
        b.type = "button";
        b.addEventListener("click", () => goToRoom(r.name));
        const entry = el("li");
        entry.append(b, ` (${r.members})${r.topic ? " " + r.topic : ""}`);
        ul.appendChild(entry);
      }
      li.appendChild(ul);
    } else {
      li.classList.add("notice", item.kind);
      li.appendChild(el("span", "text", item.text));
    }
    if (item.mention) {
      li.classList.add("mention");
      li.appendChild(srOnly(" (mentions you)"));
    }
    return li;
  }

  function daySeparator(d) {
    return el("li", "day", T.dayLabel(d));
  }

  function unreadMark() {
    return el("li", "unread-mark", "unread from here");
  }

  // The nodes of a conversation's log: day separators, the "no more
  // history" mark at the top, the "unread from here" line.
  function logNodes(c) {
    const nodes = [];
    if (c.noMore) nodes.push(el("li", "history-mark no-more", "no more history"));
    state.lastDay = null;
    for (const item of c.items) {
      const d = new Date(item.time * 1000);
      if (item.kind !== "history-mark" && T.dayKey(d) !== state.lastDay) {
        state.lastDay = T.dayKey(d);
        nodes.push(daySeparator(d));
      }
      if (item === c.markAt) nodes.push(unreadMark());
      nodes.push(itemNode(item));
    }
    return nodes;
  }

  function atBottom(log) {
    return log.scrollTop + log.clientHeight >= log.scrollHeight - 40;
  }

  // Draw the current conversation's log anew: at the bottom, at the unread
  // mark, or keeping the lines in view where they are (older lines added
  // above).
  function renderLog(how) {
    const c = currentConv();
    const old = $("log");
    const fromBottom = old.scrollHeight - old.scrollTop;
    const live = $("log-live").cloneNode(false);
    const log = old.cloneNode(false);
    log.append(...(c ? logNodes(c) : []));
    log.addEventListener("scroll", scrolled);
    live.appendChild(log);
    $("log-live").replaceWith(live);
    const mark = log.querySelector(".unread-mark");
    if (how === "keep") log.scrollTop = log.scrollHeight - fromBottom;
    else if (how === "mark" && mark) log.scrollTop = Math.max(0, mark.offsetTop - log.offsetTop - 8);
    else log.scrollTop = log.scrollHeight;
    hideNewMessages();
  }

  function append(item) {
    const log = $("log");
    const stick = atBottom(log);
    const d = new Date(item.time * 1000);
    if (item.kind !== "history-mark" && T.dayKey(d) !== state.lastDay) {
      state.lastDay = T.dayKey(d);
      log.appendChild(daySeparator(d));
    }
    log.appendChild(itemNode(item));
    if (stick) log.scrollTop = log.scrollHeight;
    else if (item.kind === "message" || item.kind === "action" || item.kind === "private") {
      state.newBelow += 1;
      const button = $("new-messages");
      button.textContent = `${state.newBelow} new message${state.newBelow > 1 ? "s" : ""} ↓`;
      button.hidden = false;
    }
  }

  function hideNewMessages() {
    state.newBelow = 0;
    $("new-messages").hidden = true;
  }

  function scrolled() {
    const log = $("log");
    if (atBottom(log)) {
      hideNewMessages();
      wantRead();
    }
    if (log.scrollTop < 40) loadOlder(currentConv());
  }

  function loadOlder(c, limit) {
    if (!c || !c.isRoom || c.loadingOlder || (!limit && (c.noMore || !c.more))) return;
    if (!send({ type: "history", room: c.title, ...(limit ? { limit } : { limit: 50 }) })) return;
    c.loadingOlder = 1;
  }

  function show(id, opts) {
    const c = state.convs.get(id);
    if (!c) return;
    const switched = state.current !== id;
    state.current = id;
    c.markAt = c.unread ? c.firstUnread : (switched ? null : c.markAt);
    c.unread = 0;
    c.mentions = 0;
    c.firstUnread = null;
    renderLog(opts && opts.keep ? "keep" : "mark");
    $("title").textContent = c.isRoom ? c.title : "private: " + c.title;
    $("topic").textContent = c.topic;
    closeDrawer(false);
    renderLists();
    renderMembers();
    if (!opts || !opts.keep) $("input").focus();
    wantRead();
  }

  function badges(c) {
    const out = [];
    if (!c.unread) return out;
    if (c.isRoom) {
      const b = el("span", "badge", String(c.unread));
      b.appendChild(srOnly(c.unread === 1 ? " unread line" : " unread lines"));
      out.push(b);
      if (c.mentions) {
        const m = el("span", "badge mention");
        const shown = el("span", "", "@" + c.mentions);
        shown.setAttribute("aria-hidden", "true");
        m.append(shown, srOnly(c.mentions === 1 ? "1 mention of you" : `${c.mentions} mentions of you`));
        out.push(m);
      }
    } else {
      const b = el("span", "badge mention", String(c.unread));
      b.appendChild(srOnly(c.unread === 1 ? " unread private line" : " unread private lines"));
      out.push(b);
    }
    return out;
  }

  function renderLists() {
    const fill = (ul, convs) => {
      ul.replaceChildren(...convs.map((c) => {
        const li = el("li");
        li.dataset.conv = c.id;
        const b = el("button", "conv");
        b.type = "button";
        b.dataset.conv = c.id;
        if (c.id === state.current) b.setAttribute("aria-current", "page");
        b.appendChild(el("span", "conv-name", c.title));
        b.append(...badges(c));
        b.addEventListener("click", () => show(c.id));
        li.appendChild(b);
        return li;
      }));
    };
    const focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.conv : undefined;
    fill($("room-list"), joinedRooms());
    fill($("private-list"), privates());
    if (focused) {
      const again = document.querySelector(`#sidebar button.conv[data-conv="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
    renderMenuBadge();
  }

  function renderMenuBadge() {
    let unread = 0, loud = false;
    for (const c of state.convs.values()) {
      unread += c.unread;
      if (c.mentions || (!c.isRoom && c.unread)) loud = true;
    }
    const badge = $("menu-badge");
    badge.hidden = !unread;
    badge.className = loud ? "badge mention" : "badge";
    badge.replaceChildren(String(unread), srOnly(loud ? " unread, for you among them" : " unread"));
  }

  const joinedRooms = () => state.order.map((k) => state.convs.get(k)).filter((c) => c && c.joined);
  const privates = () => [...state.convs.values()].filter((c) => !c.isRoom);

  function sortNames(names) {
    return names.sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  }

  function renderMembers() {
    const c = currentConv();
    const names = c ? (c.isRoom ? c.members : [state.name, c.title]) : [];
    $("members-title").textContent = `Members (${names.length})`;
    // Operators first, then voiced members (members.js); a member's button
    // opens its menu.
    $("members").replaceChildren(...(c ? members.sort(c, names) : []).map((n) => {
      const li = el("li");
      const b = el("button", "member " + T.colourClass(n), n);
      b.type = "button";
      members.decorate(c, n, b);
      if (isMe(n)) b.setAttribute("aria-label", `${b.textContent} (you)`);
      li.appendChild(b);
      return li;
    }));
  }

  function notice(text, cls, id) {
    const c = state.convs.get(id || state.current);
    if (c) line(c, { kind: cls || "info", text });
  }

  function goToRoom(name) {
    const c = state.convs.get(key(name));
    if (c && c.joined) return show(c.id);
    state.pendingShow = name;
    send({ type: "join", room: name });
  }

  // The connection, with reconnection and back-off.

  function connect() {
    clearTimeout(state.retryTimer);
    clearInterval(state.countdown);
    const url = new URL("ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    state.ws = ws;
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      const handler = handlers[m.type];
      if (handler) handler(m);
    };
    ws.onclose = () => {
      if (state.ws !== ws) return;
      state.ws = null;
      // What was on its way and not taken waits for the next connection.
      for (const p of state.inflight) queue(p);
      state.inflight = [];
      if (state.loggedIn && state.wantOpen) scheduleReconnect();
      else if (!state.loggedIn) $("login-status").textContent = "Not connected; Enter connects again.";
      else {
        $("connection").hidden = false;
        $("connection-text").textContent = "Disconnected.";
      }
    };
  }

  function scheduleReconnect() {
    const delay = Math.min(30, 2 ** state.retry) * (0.8 + Math.random() * 0.4);
    state.retry += 1;
    let left = Math.ceil(delay);
    const box = $("connection");
    box.hidden = false;
    const tell = () => { $("connection-text").textContent = `Disconnected. Reconnecting in ${left} s…`; };
    tell();
    state.countdown = setInterval(() => { left = Math.max(0, left - 1); tell(); }, 1000);
    state.retryTimer = setTimeout(connect, delay * 1000);
  }

  const connected = () => state.ws && state.ws.readyState === WebSocket.OPEN;

  function send(m) {
    if (connected()) {
      state.ws.send(JSON.stringify(m));
      return true;
    }
    if (state.loggedIn) notice("Not connected: not sent.", "error");
    return false;
  }

  // Drafts: a line said is shown as pending until the server sends it back
  // (or refuses it: then its text goes back to the input); typed while
  // disconnected, it waits for the reconnection.

  let serial = 0;

  function sendLine(c, message, shown, echo, typed) {
    const p = { kind: "pending", serial: ++serial, shown, echo, typed, message, conv: c.id,
                queued: !connected() };
    if (p.queued) state.outbox.push(p);
    else {
      state.ws.send(JSON.stringify(message));
      state.inflight.push(p);
    }
    line(c, p);
  }

  function queue(p) {
    p.queued = true;
    state.outbox.push(p);
    redrawPending(p);
  }

  function redrawPending(p) {
    const node = document.querySelector(`#log li[data-pending="${p.serial}"]`);
    if (node) node.replaceWith(itemNode(p));
  }

  function dropPending(p) {
    const c = state.convs.get(p.conv);
    if (c) {
      const at = c.items.indexOf(p);
      if (at >= 0) c.items.splice(at, 1);
    }
    const node = document.querySelector(`#log li[data-pending="${p.serial}"]`);
    if (node) node.remove();
  }

  function flushOutbox() {
    const waiting = state.outbox;
    state.outbox = [];
    for (const p of waiting) {
      p.queued = false;
      state.ws.send(JSON.stringify(p.message));
      state.inflight.push(p);
      redrawPending(p);
    }
  }

  // The server sent back a line of ours: the pending one is taken.
  function taken(echo) {
    const at = state.inflight.findIndex((p) => p.echo === echo);
    if (at < 0) return;
    dropPending(state.inflight[at]);
    state.inflight.splice(at, 1);
  }

  // The server refused a line: the oldest on its way, back to the input.
  function refused(about) {
    const at = state.inflight.findIndex((p) => p.message.type === about);
    if (at < 0) return;
    const p = state.inflight[at];
    state.inflight.splice(at, 1);
    dropPending(p);
    const input = $("input");
    if (!input.value) {
      input.value = p.typed;
      countRoomLeft();
    }
  }

  const handlers = {
    hello(m) {
      state.server = m.server;
      $("server-name").textContent = m.server;
      renderTitle();
      $("password-row").hidden = !m.password && !m.accounts;
      $("signup-row").hidden = !(m.accounts && m.accounts.registration);
      if (m.maxMessage) state.maxText = Math.max(1, m.maxMessage - 1024);
      if (state.wantOpen && state.name) {
        $("connection-text").textContent = "Reconnected, logging in…";
        if (state.signup) send({ type: "signup", name: state.name, password: state.password });
        else send({ type: "login", name: state.name, ...(state.password ? { password: state.password } : {}) });
        state.signup = false;
      } else if (m.password) {
        $("password").required = true;
      }
    },
    welcome(m) {
      const again = state.loggedIn;
      state.oper = false;
      state.loggedIn = true;
      state.wantOpen = true;
      state.retry = 0;
      state.name = m.name;
      state.account = Boolean(m.account);
      $("connection").hidden = true;
      $("login-view").hidden = true;
      $("chat-view").hidden = false;
      $("me").textContent = "You are " + m.name;
      for (const c of state.convs.values()) if (c.isRoom) c.joined = false;
      if (again) {
        // Back in the rooms we were in before the connection dropped, then
        // what was typed meanwhile.
        for (const k of state.order) send({ type: "join", room: state.convs.get(k).title });
        flushOutbox();
      }
      for (const text of m.motd) notice(text, "info");
    },
    room(m) {
      const c = roomConv(m.room);
      c.joined = true;
      c.title = m.room;
      c.members = sortNames([...m.members]);
      c.roles = members.roles(m.roles, c.roles);
      // A server that restarted has forgotten the topic its history tells.
      c.topic = m.topic || (c.lastTopic ? c.lastTopic.text : "");
      if (state.pendingShow && key(state.pendingShow) === c.id) {
        state.pendingShow = null;
        show(c.id);
      } else if (!state.current || !state.convs.has(state.current)) {
        show(c.id);
      } else if (state.current === c.id) {
        $("topic").textContent = c.topic;
        renderMembers();
        renderLists();
      } else {
        renderLists();
      }
    },
    history(m) {
      const c = roomConv(m.room);
      const asked = c.loadingOlder > 0;
      const fresh = m.entries.filter((e) => !c.ids.has(e.id));
      for (const e of fresh) {
        if (e.kind === "topic" && (!c.lastTopic || e.id > c.lastTopic.id)) {
          c.lastTopic = { text: e.text, id: e.id };
          c.topic = e.text;
          if (state.current === c.id) $("topic").textContent = c.topic;
        }
      }
      const known = c.items.filter((i) => i.id !== undefined).map((i) => i.id);
      const oldest = known.length ? Math.min(...known) : Infinity;
      const newest = known.length ? Math.max(...known) : -Infinity;
      const items = fresh.map((e) => ({ kind: e.kind, from: e.from, text: e.text, id: e.id,
                                        time: e.time, history: true }));
      for (const i of items) c.ids.add(i.id);
      if (!m.more && (!known.length || fresh.every((e) => e.id < oldest))) c.noMore = true;
      c.more = m.more;
      if (fresh.length && fresh.every((e) => e.id > newest)) {
        // The replay on joining: after what is shown.
        if (items.some((i) => i.kind !== "topic" && i.from && !isMe(i.from))) c.unreported = true;
        c.items.push({ kind: "history-mark", text: `history (${fresh.length})`, time: items[0].time },
                     ...items,
                     { kind: "history-mark", text: "end of history", time: items[items.length - 1].time });
      } else if (fresh.length && fresh.every((e) => e.id < oldest)) {
        // Older lines: above, in order.
        c.items.unshift(...items);
      } else {
        for (const i of items) {
          const at = c.items.findIndex((x) => x.id !== undefined && x.id > i.id);
          if (at < 0) c.items.push(i); else c.items.splice(at, 0, i);
        }
      }
      if (asked) {
        c.loadingOlder = 0;
        // Lines the page had already (the server counts from what it last
        // sent): ask for the ones before them, a few times at most.
        c.skips = fresh.length ? 0 : (c.skips || 0) + 1;
        if (!fresh.length && m.more && c.skips < 10) loadOlder(c, 50);
      }
      if (state.current === c.id) {
        renderLog(fresh.length && fresh.every((e) => e.id > newest) ? "bottom" : "keep");
        wantRead();
      }
    },
    message(m) {
      if (isMe(m.from)) taken(`say ${key(m.room)} ${m.text}`);
      line(roomConv(m.room), { kind: "message", from: m.from, text: m.text, id: m.id, time: m.time });
    },
    action(m) {
      if (isMe(m.from)) taken(`act ${key(m.room)} ${m.text}`);
      line(roomConv(m.room), { kind: "action", from: m.from, text: m.text, id: m.id, time: m.time });
    },
    topic(m) {
      const c = roomConv(m.room);
      c.topic = m.text;
      if (m.id !== undefined) c.lastTopic = { text: m.text, id: m.id };
      line(c, { kind: "topic", from: m.from, text: m.text, id: m.id, time: m.time });
      if (state.current === c.id) $("topic").textContent = c.topic;
    },
    join(m) {
      const c = roomConv(m.room);
      if (!c.members.some((n) => key(n) === key(m.name))) c.members.push(m.name);
      sortNames(c.members);
      line(c, { kind: "join", text: isMe(m.name) ? `You joined ${m.room}` : `${m.name} has joined` });
      if (state.current === c.id) renderMembers();
    },
    part(m) {
      const c = roomConv(m.room);
      if (isMe(m.name)) {
        forget(c);
        return;
      }
      c.members = c.members.filter((n) => key(n) !== key(m.name));
      delete c.roles[key(m.name)];
      line(c, { kind: "part", text: `${m.name} has left (${m.reason})` });
      if (state.current === c.id) renderMembers();
    },
    quit(m) {
      for (const c of state.convs.values()) {
        if (c.isRoom && c.members.some((n) => key(n) === key(m.name))) {
          c.members = c.members.filter((n) => key(n) !== key(m.name));
          delete c.roles[key(m.name)];
          line(c, { kind: "part", text: `${m.name} has quit (${m.reason})` });
        }
      }
      renderMembers();
    },
    rename(m) {
      if (isMe(m.old)) {
        state.name = m.new;
        $("me").textContent = "You are " + m.new;
      }
      for (const c of state.convs.values()) {
        if (c.isRoom && c.members.some((n) => key(n) === key(m.old))) {
          c.members = sortNames(c.members.map((n) => key(n) === key(m.old) ? m.new : n));
          if (c.roles[key(m.old)]) {
            c.roles[key(m.new)] = c.roles[key(m.old)];
            if (key(m.new) !== key(m.old)) delete c.roles[key(m.old)];
          }
          line(c, { kind: "rename", text: `${m.old} is now known as ${m.new}` });
        }
      }
      const priv = state.convs.get("@" + key(m.old));
      if (priv && key(m.old) !== key(m.new)) {
        state.convs.delete(priv.id);
        const was = priv.id;
        priv.id = "@" + key(m.new);
        priv.title = m.new;
        state.convs.set(priv.id, priv);
        line(priv, { kind: "rename", text: `${m.old} is now known as ${m.new}` });
        if (state.current === was) show(priv.id, { keep: true });
      } else if (priv) {
        priv.title = m.new;
      }
      if (state.current) $("title").textContent = currentConv().isRoom ? currentConv().title : "private: " + currentConv().title;
      renderLists();
      renderMembers();
    },
    private(m) {
      const mine = isMe(m.from);
      const other = mine ? m.to : m.from;
      if (mine) taken(`msg ${key(other)} ${m.text}`);
      const c = privConv(other);
      // An action to one user comes as "* NAME TEXT".
      const act = m.text.startsWith(`* ${m.from} `);
      line(c, { kind: "private", from: m.from, text: act ? m.text.slice(m.from.length + 3) : m.text,
                time: m.time, act });
      if (state.pendingShow === c.id) {
        state.pendingShow = null;
        show(c.id);
      }
      renderLists();
    },
    read(m) {
      // The account's read marker moved, here or on another device: the
      // conversation's unread count is what the server counts after it.
      const id = m.target.startsWith("#") ? key(m.target) : "@" + key(m.target);
      const c = state.convs.get(id);
      state.readsSent = Math.max(0, state.readsSent - 1);
      if (c && !m.unread) c.unreported = false;
      if (!c || c.id === state.current || c.unread === m.unread) return;
      c.unread = m.unread;
      renderLists();
    },
    members(m) {
      if (m.room) {
        const c = roomConv(m.room);
        c.members = sortNames([...m.members]);
        c.roles = members.roles(m.roles, c.roles);
        if (state.current === c.id) renderMembers();
      }
      notice(`Users online (${m.members.length}): ${m.members.join(", ")}`, "info");
    },
    found(m) {
      // A page of search results, newest first: a first page replaces the
      // results shown, a later one (the same words, "Older") adds to them.
      const list = $("results");
      if (state.search !== m.words || !state.searchPaging) list.replaceChildren();
      state.search = m.words;
      state.searchPaging = false;
      for (const e of m.entries) {
        const li = el("li");
        const b = el("button", "result");
        b.type = "button";
        b.appendChild(el("span", "result-room", e.room));
        const when = new Date(e.time * 1000);
        const t = timeNode(e.time);
        t.textContent = T.dayKey(when) + " " + T.clock(when);
        b.appendChild(t);
        b.appendChild(sender(e.from, e.kind === "action" ? "* " : ""));
        b.appendChild(el("span", "text", e.text));
        b.addEventListener("click", () => jumpTo(e));
        li.appendChild(b);
        list.appendChild(li);
      }
      const count = list.children.length;
      $("search-title").textContent = count
        ? `${count} found for “${m.words}”${m.more ? "" : " (no more)"}`
        : `Nothing found for “${m.words}”`;
      $("search-more").hidden = !m.more;
      $("search-panel").hidden = false;
    },
    rooms(m) {
      const c = currentConv();
      if (c) line(c, { kind: "rooms", rooms: m.rooms, text: "" });
    },
    password(m) {
      // The name is an account: its password is needed.
      $("password-row").hidden = false;
      $("password").required = true;
      $("password").focus();
      $("login-status").textContent = m.message;
      $("login-button").disabled = false;
    },
    ok(m) {
      notice(m.message, "info");
    },
    account(m) {
      if (m.name === state.name) state.account = Boolean(m.account);
      if (m.name === state.name) notice(m.account ? `You are logged in to the account ${m.account}.` : "You are a guest now.", "info");
    },
    error(m) {
      if (!state.loggedIn) {
        $("login-status").textContent = m.message;
        $("login-button").disabled = false;
        return;
      }
      if (m.about === "read" && state.readsSent) {
        // A read the page sent by itself (a private conversation with a
        // guest, never kept): not worth showing.
        state.readsSent -= 1;
        return;
      }
      if (m.about === "say" || m.about === "act" || m.about === "msg") refused(m.about);
      if (m.about === "history") {
        const c = currentConv();
        if (c) c.loadingOlder = 0;
      }
      if (m.about === "join" || m.about === "msg") state.pendingShow = null;
      notice(m.message, "error");
    },
    bye(m) {
      // Only a server restart is worth reconnecting after.
      if (!/shutting down/.test(m.message)) state.wantOpen = false;
      notice(m.message, "info");
    },
  };

  // Roles and a member's menu (members.js), with the moderation messages.
  const members = window.ChatMembers({
    state, key, el, send, line, notice, show, privConv, roomConv, renderMembers, handlers,
  });
  Object.assign(handlers, members.handlers);

  function forget(c) {
    c.joined = false;
    if (c.isRoom) state.order = state.order.filter((k) => k !== c.id);
    state.convs.delete(c.id);
    if (state.current === c.id) {
      const next = joinedRooms()[0] || privates()[0];
      if (next) show(next.id);
      else { state.current = null; renderLog("bottom"); }
    }
    renderLists();
  }

  // Search: the results above the conversation; a click shows the room,
  // and the line itself when the page has it.

  function search(query) {
    state.searchPaging = false;
    if (query) send({ type: "search", query });
    else { state.searchPaging = true; send({ type: "search" }); }
  }

  function jumpTo(e) {
    const c = state.convs.get(key(e.room));
    if (!c) return notice(`You are not in ${e.room} any more.`, "error");
    show(c.id);
    const li = $("log").querySelector(`li[data-id="${Number(e.id)}"]`);
    if (li) {
      li.classList.add("found");
      li.scrollIntoView({ block: "center" });
    }
  }

  // The input line: commands, history (Up/Down), name completion (Tab).

  const HELP = [
    "/join #room, /part [reason], /msg name text, /me action, /topic text,",
    "/nick name, /who, /rooms, /history [n], /quit [reason]. Tab completes names.",
    "/search [#room] [from:name] [before:date] [after:date] words; /search alone: older results.",
    "Alt+Up/Down: the room above or below; Ctrl+K: go to a room or a person; Escape closes.",
  ];

  function knownName(name) {
    if (state.convs.has("@" + key(name))) return true;
    return [...state.convs.values()].some((c) => c.isRoom && c.members.some((n) => key(n) === key(name)));
  }

  // Do what the line typed says; false when it was not sent and the input
  // should keep it (too long).
  function submit(typed) {
    let text = typed;
    const c = currentConv();
    const room = c && c.isRoom ? c.title : undefined;
    const tooLong = (body) => {
      const over = T.utf8Length(body) - state.maxText;
      if (over <= 0) return false;
      notice(`Too long by ${over} byte${over > 1 ? "s" : ""} (at most ${state.maxText}): not sent.`, "error");
      return true;
    };
    if (!text.startsWith("/") || text.startsWith("//")) {
      if (text.startsWith("//")) text = text.slice(1);
      if (!c) { notice("Join a room first.", "error"); return false; }
      if (tooLong(text)) return false;
      if (c.isRoom) sendLine(c, { type: "say", room, text }, text, `say ${c.id} ${text}`, typed);
      else sendLine(c, { type: "msg", to: c.title, text }, text, `msg ${key(c.title)} ${text}`, typed);
      return true;
    }
    const [, cmd, rest = ""] = text.match(/^\/(\S+)\s*([\s\S]*)$/) || [];
    const arg = rest.trim();
    switch ((cmd || "").toLowerCase()) {
      case "me":
        if (!arg || !c) break;
        if (tooLong(arg)) return false;
        if (room) sendLine(c, { type: "act", room, text: arg }, `* ${state.name} ${arg}`, `act ${c.id} ${arg}`, typed);
        else sendLine(c, { type: "msg", to: c.title, text: arg, action: true }, `* ${state.name} ${arg}`,
                      `msg ${key(c.title)} * ${state.name} ${arg}`, typed);
        break;
      case "join": if (arg) goToRoom(arg); break;
      case "part": case "close":
        if (room) send({ type: "part", room, ...(arg ? { reason: arg } : {}) });
        else if (c) forget(c);
        break;
      case "msg": case "query": {
        const [, to, body] = arg.match(/^(\S+)\s*([\s\S]*)$/) || [];
        if (!to) break;
        const target = privConv.bind(null, to);
        if (body) {
          if (tooLong(body)) return false;
          // The conversation opens when the server took the line (there is
          // such a user); the line waits in the one shown meanwhile.
          const existing = state.convs.get("@" + key(to));
          if (existing) show(existing.id); else state.pendingShow = "@" + key(to);
          const where = existing || c;
          if (!where) { notice("Join a room first.", "error"); return false; }
          sendLine(where, { type: "msg", to, text: body }, `→ ${to}: ${body}`, `msg ${key(to)} ${body}`, typed);
        } else if (knownName(to)) {
          show(target().id);
        } else {
          notice(`No such user here: ${to} (/msg ${to} TEXT sends to someone in no room of yours).`, "error");
        }
        break;
      }
      case "topic": send({ type: "topic", ...(room ? { room } : {}), ...(arg ? { text: arg } : {}) }); break;
      case "nick": if (arg) send({ type: "nick", name: arg }); break;
      case "who": send({ type: "who", ...(room ? { room } : {}) }); break;
      case "rooms": send({ type: "rooms" }); break;
      case "history":
        if (c && c.isRoom) loadOlder(c, /^\d+$/.test(arg) ? Math.min(200, Math.max(1, Number(arg))) : 20);
        break;
      case "search": search(arg); break;
      case "quit": state.wantOpen = false; send({ type: "quit", ...(arg ? { reason: arg } : {}) }); break;
      case "help": for (const h of HELP) notice(h, "info"); break;
      default: notice(`Unknown command /${cmd}; try /help`, "error");
    }
    return true;
  }

  // Complete the name before the caret; false when there is none to
  // complete (Tab then moves the focus on).
  function complete(input) {
    const c = currentConv();
    if (!c) return false;
    let comp = state.completion;
    if (!comp || input.value !== comp.result) {
      const upto = input.selectionStart;
      const before = input.value.slice(0, upto);
      const prefix = before.match(/(\S*)$/)[1];
      if (!prefix) return false;
      const names = (c.isRoom ? c.members : [c.title]).filter((n) => key(n).startsWith(key(prefix)));
      if (!names.length) return false;
      comp = { names, index: -1, head: input.value.slice(0, upto - prefix.length),
               tail: input.value.slice(upto) };
    }
    comp.index = (comp.index + 1) % comp.names.length;
    const suffix = comp.head.trim() === "" ? ": " : " ";
    const name = comp.names[comp.index] + suffix;
    input.value = comp.head + name + comp.tail.replace(/^\s+/, "");
    const caret = (comp.head + name).length;
    input.setSelectionRange(caret, caret);
    comp.result = input.value;
    state.completion = comp;
    return true;
  }

  // How much room is left in a line, shown near the limit.
  function countRoomLeft() {
    const input = $("input");
    const box = $("room-left");
    let text = input.value;
    const me = text.match(/^\/me\s+([\s\S]*)$/i);
    if (me) text = me[1];
    else if (text.startsWith("//")) text = text.slice(1);
    const left = state.maxText - T.utf8Length(text);
    const near = left < Math.min(500, state.maxText / 5);
    box.hidden = !near;
    box.textContent = left >= 0 ? `${left} left` : `${-left} too many`;
    box.classList.toggle("over", left < 0);
  }

  // Moving around: Alt+Up/Down, the finder (Ctrl+K), the drawer, Escape.

  function moveConv(step) {
    const all = [...joinedRooms(), ...privates()];
    if (!all.length) return;
    const at = all.findIndex((c) => c.id === state.current);
    const next = all[(at + step + all.length) % all.length];
    show(next.id);
  }

  function finderChoices(query) {
    const q = key(query.trim());
    const out = [];
    const seen = new Set();
    const add = (label, kind, go) => {
      if (seen.has(kind + key(label)) || (q && !key(label).includes(q.replace(/^[#@]/, "")))) return;
      seen.add(kind + key(label));
      out.push({ label, kind, go });
    };
    for (const c of joinedRooms()) add(c.title, "room", () => show(c.id));
    for (const c of privates()) add(c.title, "person", () => show(c.id));
    for (const c of joinedRooms()) {
      for (const n of c.members) if (!isMe(n)) add(n, "person", () => show(privConv(n).id));
    }
    if (q.startsWith("#") && q.length > 1 && !state.convs.has(q)) add(query.trim(), "join", () => goToRoom(query.trim()));
    return out.slice(0, 30);
  }

  function renderFinder() {
    const input = $("finder-input");
    state.finder = finderChoices(input.value);
    state.finderAt = Math.min(state.finderAt, Math.max(0, state.finder.length - 1));
    $("finder-list").replaceChildren(...state.finder.map((choice, i) => {
      const li = el("li", "choice", choice.label);
      li.id = "finder-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === state.finderAt));
      li.appendChild(el("span", "choice-kind",
        choice.kind === "room" ? " room" : choice.kind === "join" ? " join this room" : " private conversation"));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
      return li;
    }));
    if (state.finder.length) input.setAttribute("aria-activedescendant", "finder-" + state.finderAt);
    else input.removeAttribute("aria-activedescendant");
  }

  function openFinder() {
    state.finderAt = 0;
    $("finder-input").value = "";
    $("finder").hidden = false;
    renderFinder();
    $("finder-input").focus();
  }

  function closeFinder() {
    if ($("finder").hidden) return false;
    $("finder").hidden = true;
    $("input").focus();
    return true;
  }

  function choose(i) {
    const choice = state.finder[i];
    closeFinder();
    if (choice) choice.go();
  }

  function closeDrawer(refocus) {
    const sidebar = $("sidebar");
    if (!sidebar.classList.contains("open")) return false;
    sidebar.classList.remove("open");
    $("menu-toggle").setAttribute("aria-expanded", "false");
    if (refocus) $("menu-toggle").focus();
    return true;
  }

  function toggleDrawer() {
    const open = $("sidebar").classList.toggle("open");
    $("menu-toggle").setAttribute("aria-expanded", String(open));
    if (open) {
      const first = document.querySelector("#room-list button");
      if (first) first.focus();
    }
  }

  function closeSearch() {
    if ($("search-panel").hidden) return false;
    $("search-panel").hidden = true;
    return true;
  }

  function setup() {
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const name = $("name").value.trim();
      if (!name) return;
      state.name = name;
      state.password = $("password").value;
      $("login-status").textContent = "";
      $("login-button").disabled = true;
      askToNotify();
      if (state.ws && state.ws.readyState === WebSocket.OPEN) {
        if ($("signup").checked) send({ type: "signup", name, password: state.password });
        else send({ type: "login", name, ...(state.password ? { password: state.password } : {}) });
        $("signup").checked = false;
      } else {
        state.signup = $("signup").checked;
        $("login-status").textContent = "Connecting…";
        state.wantOpen = true;
        connect();
      }
      setTimeout(() => { $("login-button").disabled = false; }, 1500);
    });
    $("join-form").addEventListener("submit", (e) => {
      e.preventDefault();
      let room = $("join-name").value.trim();
      if (!room) return;
      if (!room.startsWith("#")) room = "#" + room;
      goToRoom(room);
      $("join-name").value = "";
    });
    const input = $("input");
    $("input-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value;
      if (!text.trim()) return;
      state.sent.push(text);
      if (state.sent.length > 200) state.sent.shift();
      state.sentAt = state.sent.length;
      if (submit(text)) input.value = "";
      countRoomLeft();
    });
    input.addEventListener("input", countRoomLeft);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Tab" && !e.shiftKey && !e.altKey && !e.ctrlKey) {
        if (complete(input)) e.preventDefault();
        return;
      }
      if (e.key === "Shift") return;
      state.completion = null;
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === "ArrowUp" && state.sentAt > 0) {
        e.preventDefault();
        state.sentAt -= 1;
        input.value = state.sent[state.sentAt];
        countRoomLeft();
      } else if (e.key === "ArrowDown" && state.sentAt < state.sent.length) {
        e.preventDefault();
        state.sentAt += 1;
        input.value = state.sent[state.sentAt] || "";
        countRoomLeft();
      }
    });
    document.addEventListener("keydown", (e) => {
      if (!state.loggedIn) return;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "k") {
        e.preventDefault();
        openFinder();
      } else if (e.altKey && !e.ctrlKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
        e.preventDefault();
        closeFinder();
        moveConv(e.key === "ArrowUp" ? -1 : 1);
      } else if (e.key === "Escape") {
        if (closeFinder() || closeDrawer(true) || closeSearch()) e.preventDefault();
      }
    });
    const finderInput = $("finder-input");
    finderInput.addEventListener("input", () => { state.finderAt = 0; renderFinder(); });
    finderInput.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const n = state.finder.length;
        if (n) state.finderAt = (state.finderAt + (e.key === "ArrowDown" ? 1 : -1) + n) % n;
        renderFinder();
      } else if (e.key === "Enter") {
        e.preventDefault();
        choose(state.finderAt);
      } else if (e.key === "Tab") {
        e.preventDefault();  // a modal dialog keeps the focus
      }
    });
    finderInput.addEventListener("blur", () => setTimeout(() => {
      if (!$("finder").contains(document.activeElement)) $("finder").hidden = true;
    }, 0));
    $("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const query = $("search-query").value.trim();
      if (query) search(query);
    });
    $("search-more").addEventListener("click", () => search(""));
    $("search-close").addEventListener("click", closeSearch);
    $("reconnect-now").addEventListener("click", () => { state.wantOpen = true; state.retry = 0; connect(); });
    $("menu-toggle").addEventListener("click", toggleDrawer);
    $("new-messages").addEventListener("click", () => {
      const log = $("log");
      log.scrollTop = log.scrollHeight;
      hideNewMessages();
      input.focus();
    });
    $("log").addEventListener("scroll", scrolled);
    document.addEventListener("visibilitychange", cameBack);
    window.addEventListener("focus", wantRead);
    members.setup();
    // Connect at once to learn whether the server wants a password.
    connect();
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
