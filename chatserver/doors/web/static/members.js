// The members panel's roles and a member's menu: operators shown @alice,
// voiced members +bob; a member's button opens a menu (Private message, and
// for a room's operators Kick…, Ban…, Mute…, Op/Deop, Voice/Devoice) that
// the keyboard reaches and works (arrows, Enter, Escape). Kick, Ban and Mute
// ask a reason (and a duration) in a small form in the panel. Every action is
// one of the web door's moderation messages (docs/web.md); a refusal is the
// server's error, shown by the page as any other.
"use strict";

window.ChatMembers = function (page) {
  const { state, key, el, send, line, notice } = page;
  const ROLE = { "@": "o", "+": "v" };
  const PREFIX = { o: "@", v: "+" };
  const ROLE_NAME = { o: "operator", v: "voice" };
  let menu = null;       // the open menu's element
  let opener = null;     // the member's button that opened it

  // Roles: each member's letters ("o", "v", "ov"), by name key.

  function roles(shown, old) {
    const letters = {};
    for (const [name, prefix] of Object.entries(shown || {})) {
      const letter = ROLE[prefix];
      if (!letter) continue;
      // A list shows the highest role only: an operator known to have
      // voice keeps it.
      const before = (old || {})[key(name)] || "";
      letters[key(name)] = letter === "o" && before.includes("v") ? "ov" : letter;
    }
    return letters;
  }

  function shown(c, name) {
    const letters = (c.roles || {})[key(name)] || "";
    for (const letter of ["o", "v"]) if (letters.includes(letter)) return PREFIX[letter] + name;
    return name;
  }

  function rank(c, name) {
    const letters = (c.roles || {})[key(name)] || "";
    return letters.includes("o") ? 0 : letters.includes("v") ? 1 : 2;
  }

  function canModerate(c) {
    return Boolean(c && c.isRoom && c.joined &&
      (state.oper || ((c.roles || {})[key(state.name)] || "").includes("o")));
  }

  // The list.

  // The members of c in the order the panel shows them: operators, voiced
  // members, the others, each by name. The panel is drawn anew: a menu
  // open on the old one goes.
  function sort(c, names) {
    closeMenu(false);
    if (!c.isRoom) return names;
    return [...names].sort((a, b) => rank(c, a) - rank(c, b) || (key(a) < key(b) ? -1 : 1));
  }

  // Make a member's button show its role and open its menu.
  function decorate(c, name, button) {
    if (c.isRoom) button.textContent = shown(c, name);
    button.dataset.name = name;
    button.setAttribute("aria-haspopup", "menu");
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", () => openMenu(c, name, button));
  }

  // The menu.

  function entries(c, name) {
    const own = key(name) === key(state.name);
    const offered = [];
    if (!own) offered.push(["Private message", () => page.show(page.privConv(name).id)]);
    if (!canModerate(c)) return offered;
    const room = c.title;
    if (!own) {
      offered.push(["Kick…", () => openForm("kick", room, name)]);
      offered.push(["Ban…", () => openForm("ban", room, name)]);
      offered.push(["Mute…", () => openForm("mute", room, name)]);
    }
    const letters = (c.roles || {})[key(name)] || "";
    for (const [letter, give, take] of [["o", "op", "deop"], ["v", "voice", "devoice"]]) {
      const type = letters.includes(letter) ? take : give;
      offered.push([type[0].toUpperCase() + type.slice(1), () => send({ type, room, name })]);
    }
    return offered;
  }

  function openMenu(c, name, button) {
    closeMenu(false);
    const offered = entries(c, name);
    if (!offered.length) return;
    menu = el("div", "member-menu");
    menu.id = "member-menu";
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", name);
    for (const [label, action] of offered) {
      const item = el("button", "", label);
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.addEventListener("click", () => { closeMenu(false); action(); });
      menu.appendChild(item);
    }
    menu.addEventListener("keydown", menuKey);
    opener = button;
    button.setAttribute("aria-expanded", "true");
    button.parentElement.appendChild(menu);
    menu.firstChild.focus();
  }

  function menuKey(e) {
    const items = [...menu.querySelectorAll("[role=menuitem]")];
    const at = items.indexOf(document.activeElement);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      items[(at + step + items.length) % items.length].focus();
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      items[e.key === "Home" ? 0 : items.length - 1].focus();
    } else if (e.key === "Escape") {
      e.preventDefault();
      closeMenu(true);
    } else if (e.key === "Tab") {
      closeMenu(false);
    }
  }

  function closeMenu(refocus) {
    if (!menu) return;
    menu.remove();
    menu = null;
    if (opener) {
      opener.setAttribute("aria-expanded", "false");
      if (refocus && opener.isConnected) opener.focus();
    }
    opener = null;
  }

  // The form: a reason, and a duration for a ban or a mute.

  const ACTIONS = { kick: "Kick", ban: "Ban", mute: "Mute" };

  function openForm(type, room, name) {
    const form = document.getElementById("member-form");
    form.hidden = false;
    form.dataset.type = type;
    form.dataset.room = room;
    form.dataset.name = name;
    document.getElementById("member-form-title").textContent = `${ACTIONS[type]} ${name} in ${room}`;
    document.getElementById("member-form-submit").textContent = ACTIONS[type];
    document.getElementById("member-duration-row").hidden = type === "kick";
    document.getElementById("member-reason").value = "";
    document.getElementById("member-duration").value = "";
    document.getElementById("member-reason").focus();
  }

  function closeForm() {
    const form = document.getElementById("member-form");
    form.hidden = true;
    document.getElementById("input").focus();
  }

  function submitForm(e) {
    e.preventDefault();
    const form = e.target;
    const { type, room, name } = form.dataset;
    const reason = document.getElementById("member-reason").value.trim();
    const duration = document.getElementById("member-duration").value.trim();
    const m = { type, room, reason };
    if (type === "ban") m.mask = name; else m.name = name;
    if (type !== "kick" && duration) m.duration = duration;
    send(m);
    closeForm();
  }

  function setup() {
    const form = document.getElementById("member-form");
    form.addEventListener("submit", submitForm);
    document.getElementById("member-form-cancel").addEventListener("click", closeForm);
    form.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); closeForm(); } });
    document.addEventListener("click", (e) => {
      if (menu && !menu.contains(e.target) && e.target !== opener) closeMenu(false);
    });
  }

  // What the server tells.

  function until(ends) {
    return ends === null || ends === undefined
      ? "until lifted" : "until " + new Date(ends * 1000).toISOString().slice(0, 19).replace("T", " ") + "Z";
  }

  function banChanged(kind) {
    return (m) => {
      const c = page.roomConv(m.room);
      let text;
      if (!m.added) text = m.by ? `${m.by} lifted the ${kind} on ${m.mask}` : `the ${kind} on ${m.mask} ended`;
      else {
        text = `${m.by} ${kind === "ban" ? "banned" : "muted"} ${m.mask} ${until(m.ends)}`;
        if (m.reason) text += `: ${m.reason}`;
      }
      line(c, { kind: "info", text });
    };
  }

  const handlers = {
    role(m) {
      const c = page.roomConv(m.room);
      const letter = m.role === "op" ? "o" : "v";
      c.roles = c.roles || {};
      const before = (c.roles[key(m.name)] || "").replace(letter, "");
      const after = ["o", "v"].filter((l) => (before + (m.given ? letter : "")).includes(l)).join("");
      if (after) c.roles[key(m.name)] = after; else delete c.roles[key(m.name)];
      line(c, { kind: "info", text: m.given
        ? `${m.by} gave ${ROLE_NAME[letter]} (+${letter}) to ${m.name}`
        : `${m.by} took ${ROLE_NAME[letter]} (-${letter}) from ${m.name}` });
      if (state.current === c.id) page.renderMembers();
    },
    kick(m) {
      const why = m.reason ? `kicked by ${m.by}: ${m.reason}` : `kicked by ${m.by}`;
      if (key(m.name) === key(state.name)) {
        page.handlers.part({ room: m.room, name: m.name, reason: why });
        notice(`You were kicked from ${m.room} by ${m.by}${m.reason ? ": " + m.reason : "."}`, "error");
        return;
      }
      const c = page.roomConv(m.room);
      if (c.roles) delete c.roles[key(m.name)];
      page.handlers.part({ room: m.room, name: m.name, reason: why });
    },
    ban: banChanged("ban"),
    mute: banChanged("mute"),
    mode(m) {
      const text = [`${m.by} set mode`, m.changes, ...(m.arguments || [])].join(" ");
      line(page.roomConv(m.room), { kind: "info", text });
    },
    oper() {
      state.oper = true;
      notice("You are a server operator now.", "info");
      page.renderMembers();
    },
  };

  return { roles, sort, decorate, handlers, setup, canModerate };
};
