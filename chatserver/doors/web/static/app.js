// The chat page: one WebSocket to /ws speaking the JSON of docs/web.md.
// Text from the network is only ever set with textContent, never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const key = (name) => name.toLowerCase();

  const state = {
    pendingShow: null,     // a room asked to join: shown once joined
    ws: null,
    name: "",
    password: "",
    signup: false,         // sign up (register the name) once connected
    loggedIn: false,
    wantOpen: false,       // reconnect when the connection drops
    retry: 0,
    retryTimer: null,
    countdown: null,
    convs: new Map(),      // key -> conversation
    order: [],             // room keys, in the order joined
    current: null,         // key of the conversation shown
    sent: [],              // input history
    sentAt: 0,
    completion: null,
    search: null,          // the words of the results shown
    searchPaging: false,   // an older page was asked for: add to them
  };

  // Conversations: rooms ("#dev") and private ones ("@bob").

  function conv(id, title, isRoom) {
    let c = state.convs.get(id);
    if (!c) {
      c = { id, title, isRoom, topic: "", members: [], roles: {}, items: [], ids: new Set(),
            unread: 0, joined: isRoom };
      state.convs.set(id, c);
      if (isRoom) state.order.push(id);
    }
    return c;
  }
  const roomConv = (room) => conv(key(room), room, true);
  const privConv = (name) => conv("@" + key(name), name, false);

  function colour(name) {
    // FNV-1a over the name, spread over the colour wheel.
    let h = 2166136261;
    for (const ch of key(name)) h = Math.imul(h ^ ch.codePointAt(0), 16777619) >>> 0;
    return `hsl(${(h % 36) * 10}, 62%, ${34 + (h >>> 8) % 3 * 5}%)`;
  }

  function clock(t) {
    const d = t ? new Date(t * 1000) : new Date();
    return d.toTimeString().slice(0, 5);
  }

  function line(c, item) {
    if (item.id !== undefined) {
      if (c.ids.has(item.id)) return;
      c.ids.add(item.id);
    }
    c.items.push(item);
    if (c.items.length > 2000) c.items.splice(0, c.items.length - 2000);
    if (c.id === state.current) {
      append(item);
    } else if (item.kind === "message" || item.kind === "action" || item.kind === "private") {
      c.unread += 1;
      renderLists();
    }
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
    li.appendChild(el("span", "time", clock(item.time)));
    if (item.kind === "message" || item.kind === "private") {
      const who = el("span", "sender", item.from);
      who.style.color = colour(item.from);
      li.appendChild(who);
      li.appendChild(el("span", "text", item.text));
    } else if (item.kind === "action") {
      li.classList.add("action");
      const who = el("span", "sender", "* " + item.from);
      who.style.color = colour(item.from);
      li.appendChild(who);
      li.appendChild(el("span", "text", item.text));
    } else if (item.kind === "topic") {
      li.classList.add("notice", "topic-line");
      li.appendChild(el("span", "text", item.text
        ? `${item.from} set the topic: ${item.text}` : `${item.from} cleared the topic`));
    } else {
      li.classList.add("notice", item.kind);
      li.appendChild(el("span", "text", item.text));
    }
    return li;
  }

  function append(item) {
    const log = $("log");
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 40;
    log.appendChild(itemNode(item));
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function show(id) {
    const c = state.convs.get(id);
    if (!c) return;
    state.current = id;
    c.unread = 0;
    const log = $("log");
    log.replaceChildren(...c.items.map(itemNode));
    log.scrollTop = log.scrollHeight;
    $("title").textContent = c.isRoom ? c.title : "private: " + c.title;
    $("topic").textContent = c.topic;
    $("sidebar").classList.remove("open");
    renderLists();
    renderMembers();
    $("input").focus();
  }

  function renderLists() {
    const fill = (ul, convs) => {
      ul.replaceChildren(...convs.map((c) => {
        const li = el("li", c.id === state.current ? "active" : "");
        li.dataset.conv = c.id;
        li.appendChild(el("span", "conv-name", c.title));
        if (c.unread) li.appendChild(el("span", "unread", String(c.unread)));
        li.addEventListener("click", () => show(c.id));
        return li;
      }));
    };
    fill($("room-list"), state.order.map((k) => state.convs.get(k)).filter((c) => c.joined));
    fill($("private-list"), [...state.convs.values()].filter((c) => !c.isRoom));
  }

  function renderMembers() {
    const c = state.convs.get(state.current);
    const names = c ? (c.isRoom ? c.members : [state.name, c.title]) : [];
    $("members-title").textContent = `Members (${names.length})`;
    $("members").replaceChildren(...(c ? members.sort(c, names) : []).map((n) => {
      const li = el("li");
      const b = el("button", "member", n);
      b.type = "button";
      b.style.color = colour(n);
      members.decorate(c, n, b);
      li.appendChild(b);
      return li;
    }));
  }

  function notice(text, cls, id) {
    const c = state.convs.get(id || state.current);
    if (c) line(c, { kind: cls || "info", text });
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

  function send(m) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(m));
      return true;
    }
    if (state.loggedIn) notice("Not connected: not sent.", "error");
    return false;
  }

  const handlers = {
    hello(m) {
      $("server-name").textContent = m.server;
      document.title = m.server;
      $("password-row").hidden = !m.password && !m.accounts;
      $("signup-row").hidden = !(m.accounts && m.accounts.registration);
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
      $("connection").hidden = true;
      $("login-view").hidden = true;
      $("chat-view").hidden = false;
      $("me").textContent = "You are " + m.name;
      for (const c of state.convs.values()) if (c.isRoom) c.joined = false;
      if (again) {
        // Back in the rooms we were in before the connection dropped.
        for (const k of state.order) {
          const c = state.convs.get(k);
          send({ type: "join", room: c.title });
        }
      }
      for (const text of m.motd) notice(text, "info");
    },
    room(m) {
      const c = roomConv(m.room);
      const wasJoined = c.joined;
      c.joined = true;
      c.title = m.room;
      c.members = m.members;
      c.roles = members.roles(m.roles, c.roles);
      c.topic = m.topic;
      if (!wasJoined && c.items.length) line(c, { kind: "info", text: "joined " + m.room });
      if (state.pendingShow && key(state.pendingShow) === c.id) {
        state.pendingShow = null;
        show(c.id);
      } else if (!state.current || !state.convs.has(state.current) || state.current === c.id) {
        show(c.id);
      } else {
        renderLists();
      }
    },
    history(m) {
      const c = roomConv(m.room);
      const fresh = m.entries.filter((e) => !c.ids.has(e.id));
      if (!fresh.length) return;
      line(c, { kind: "history-mark", text: `history (${fresh.length})` });
      for (const e of fresh) line(c, { kind: e.kind, from: e.from, text: e.text, id: e.id, time: e.time, history: true });
      line(c, { kind: "history-mark", text: "end of history" });
    },
    message(m) { line(roomConv(m.room), { kind: "message", from: m.from, text: m.text, id: m.id, time: m.time }); },
    action(m) { line(roomConv(m.room), { kind: "action", from: m.from, text: m.text, id: m.id, time: m.time }); },
    topic(m) {
      const c = roomConv(m.room);
      c.topic = m.text;
      line(c, { kind: "topic", from: m.from, text: m.text, id: m.id, time: m.time });
      if (state.current === c.id) $("topic").textContent = c.topic;
    },
    join(m) {
      const c = roomConv(m.room);
      if (!c.members.some((n) => key(n) === key(m.name))) c.members.push(m.name);
      c.members.sort((a, b) => key(a) < key(b) ? -1 : 1);
      const mine = key(m.name) === key(state.name);
      line(c, { kind: "join", text: mine ? `You joined ${m.room}` : `${m.name} has joined` });
      if (state.current === c.id) renderMembers();
    },
    part(m) {
      const c = roomConv(m.room);
      if (key(m.name) === key(state.name)) {
        c.joined = false;
        state.order = state.order.filter((k) => k !== c.id);
        state.convs.delete(c.id);
        const next = state.order.find((k) => state.convs.get(k).joined);
        if (state.current === c.id) { if (next) show(next); else state.current = null; }
        renderLists();
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
      if (key(m.old) === key(state.name)) {
        state.name = m.new;
        $("me").textContent = "You are " + m.new;
      }
      for (const c of state.convs.values()) {
        if (c.isRoom && c.members.some((n) => key(n) === key(m.old))) {
          c.members = c.members.map((n) => key(n) === key(m.old) ? m.new : n);
          if (c.roles[key(m.old)]) {
            c.roles[key(m.new)] = c.roles[key(m.old)];
            if (key(m.new) !== key(m.old)) delete c.roles[key(m.old)];
          }
          line(c, { kind: "rename", text: `${m.old} is now known as ${m.new}` });
        }
      }
      renderMembers();
    },
    private(m) {
      const mine = key(m.from) === key(state.name);
      const c = privConv(mine ? m.to : m.from);
      line(c, { kind: "private", from: m.from, text: m.text, time: m.time });
      renderLists();
    },
    members(m) {
      if (m.room) {
        const c = roomConv(m.room);
        c.members = m.members;
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
        li.appendChild(el("span", "result-room", e.room));
        const when = new Date(e.time * 1000);
        li.appendChild(el("span", "time", when.toISOString().slice(0, 10) + " " + clock(e.time)));
        const who = el("span", "sender", e.kind === "action" ? "* " + e.from : e.from);
        who.style.color = colour(e.from);
        li.appendChild(who);
        li.appendChild(el("span", "text", e.text));
        li.addEventListener("click", () => jumpTo(e));
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
      notice(`Rooms (${m.rooms.length}): ` + m.rooms.map((r) => `${r.name} (${r.members})${r.topic ? " " + r.topic : ""}`).join(", "), "info");
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
      if (m.name === state.name) notice(m.account ? `You are logged in to the account ${m.account}.` : "You are a guest now.", "info");
    },
    error(m) {
      if (!state.loggedIn) {
        $("login-status").textContent = m.message;
        $("login-button").disabled = false;
        return;
      }
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
  ];

  function submit(text) {
    const c = state.convs.get(state.current);
    const room = c && c.isRoom ? c.title : undefined;
    if (!text.startsWith("/") || text.startsWith("//")) {
      if (text.startsWith("//")) text = text.slice(1);
      if (!c) return notice("Join a room first.", "error");
      if (c.isRoom) send({ type: "say", room, text });
      else send({ type: "msg", to: c.title, text });
      return;
    }
    const [, cmd, rest = ""] = text.match(/^\/(\S+)\s*([\s\S]*)$/) || [];
    const arg = rest.trim();
    switch ((cmd || "").toLowerCase()) {
      case "me": if (arg && room) send({ type: "act", room, text: arg }); break;
      case "join": if (arg) { state.pendingShow = arg; send({ type: "join", room: arg }); } break;
      case "part": if (room) send({ type: "part", room, ...(arg ? { reason: arg } : {}) }); break;
      case "msg": case "query": {
        const [, to, body] = arg.match(/^(\S+)\s*([\s\S]*)$/) || [];
        if (!to) break;
        if (body) send({ type: "msg", to, text: body });
        show(privConv(to).id);
        break;
      }
      case "topic": send({ type: "topic", ...(room ? { room } : {}), ...(arg ? { text: arg } : {}) }); break;
      case "nick": if (arg) send({ type: "nick", name: arg }); break;
      case "who": send({ type: "who", ...(room ? { room } : {}) }); break;
      case "rooms": send({ type: "rooms" }); break;
      case "history": send({ type: "history", ...(room ? { room } : {}), ...(/^\d+$/.test(arg) ? { limit: Number(arg) } : {}) }); break;
      case "search": search(arg); break;
      case "quit": state.wantOpen = false; send({ type: "quit", ...(arg ? { reason: arg } : {}) }); break;
      case "help": for (const h of HELP) notice(h, "info"); break;
      default: notice(`Unknown command /${cmd}; try /help`, "error");
    }
  }

  function complete(input) {
    const c = state.convs.get(state.current);
    if (!c) return;
    let comp = state.completion;
    if (!comp || input.value !== comp.result) {
      const upto = input.selectionStart;
      const before = input.value.slice(0, upto);
      const m = before.match(/(\S*)$/);
      const prefix = m[1];
      const names = (c.isRoom ? c.members : [c.title]).filter((n) => key(n).startsWith(key(prefix)) && prefix);
      if (!names.length) return;
      comp = { start: upto - prefix.length, end: upto, names, index: -1,
               head: input.value.slice(0, upto - prefix.length), tail: input.value.slice(upto) };
    }
    comp.index = (comp.index + 1) % comp.names.length;
    const suffix = comp.head.trim() === "" ? ": " : " ";
    const name = comp.names[comp.index] + suffix;
    input.value = comp.head + name + comp.tail.replace(/^\s+/, "");
    const caret = (comp.head + name).length;
    input.setSelectionRange(caret, caret);
    comp.result = input.value;
    state.completion = comp;
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
      state.pendingShow = room;
      send({ type: "join", room });
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
      input.value = "";
      submit(text);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Tab") {
        e.preventDefault();
        complete(input);
        return;
      }
      state.completion = null;
      if (e.key === "ArrowUp" && state.sentAt > 0) {
        e.preventDefault();
        state.sentAt -= 1;
        input.value = state.sent[state.sentAt];
      } else if (e.key === "ArrowDown" && state.sentAt < state.sent.length) {
        e.preventDefault();
        state.sentAt += 1;
        input.value = state.sent[state.sentAt] || "";
      }
    });
    $("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const query = $("search-query").value.trim();
      if (query) search(query);
    });
    $("search-more").addEventListener("click", () => search(""));
    $("search-close").addEventListener("click", () => { $("search-panel").hidden = true; });
    $("reconnect-now").addEventListener("click", () => { state.wantOpen = true; state.retry = 0; connect(); });
    $("menu-toggle").addEventListener("click", () => $("sidebar").classList.toggle("open"));
    members.setup();
    // Connect at once to learn whether the server wants a password.
    connect();
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
