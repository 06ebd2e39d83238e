// What the page makes of a line's text: links, mentions, folding, the
// colour of a name, dates. Pure functions, no state; app.js uses them.
// Everything is built with DOM nodes and textContent, never as HTML.
"use strict";

window.ChatText = (function () {
  // The name colours: the same twelve as the Tk client's (chatclient/model.py
  // PALETTE, checked by tests/integration/test_web_page_palette.py), each a
  // class of style.css; a name gets the one the Tk client gives it.
  const PALETTE_SIZE = 12;

  // chatwire.names.name_key: NFKC, then a case fold (upper then lower folds
  // what lower alone does not: "ß" to "ss"; a fold has no final sigma).
  const nameKey = (name) => name.normalize("NFKC").toUpperCase().toLowerCase().replace(/ς/g, "σ");

  function adler32(bytes) {
    let a = 1, b = 0;
    for (const byte of bytes) {
      a = (a + byte) % 65521;
      b = (b + a) % 65521;
    }
    return ((b << 16) | a) >>> 0;
  }

  const encoder = new TextEncoder();
  const utf8Length = (text) => encoder.encode(text).length;

  function colourClass(name) {
    return "name-" + (adler32(encoder.encode(nameKey(name))) % PALETTE_SIZE);
  }

  // http(s) URLs only; a link ends before trailing punctuation.
  const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;
  const TRAILING = /[.,;:!?'")\]}]+$/;

  function safeHref(text) {
    try {
      const url = new URL(text);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  // Append `text` to `parent`, its http(s) URLs as links opening a new tab.
  function appendLinked(parent, text) {
    let at = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      let url = match[0];
      const trailing = url.match(TRAILING);
      if (trailing) url = url.slice(0, -trailing[0].length);
      const href = safeHref(url);
      if (!href) continue;
      if (match.index > at) parent.appendChild(document.createTextNode(text.slice(at, match.index)));
      const a = document.createElement("a");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = url;
      parent.appendChild(a);
      at = match.index + url.length;
    }
    if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
  }

  // Whether `text` names `name` as a word of its own (any case).
  function mentions(text, name) {
    if (!name) return false;
    const hay = nameKey(text), needle = nameKey(name);
    let from = 0;
    for (;;) {
      const at = hay.indexOf(needle, from);
      if (at < 0) return false;
      const before = hay.slice(0, at), after = hay.slice(at + needle.length);
      if (!/[\p{L}\p{N}_-]$/u.test(before) && !/^[\p{L}\p{N}_-]/u.test(after)) return true;
      from = at + 1;
    }
  }

  // A line longer than this is folded, with "show more".
  const FOLD_AT = 600;
  const FOLD_TO = 400;

  function fold(text) {
    if (text.length <= FOLD_AT) return null;
    // Cut at a space near the end of the shown part when there is one.
    const space = text.lastIndexOf(" ", FOLD_TO);
    return text.slice(0, space > FOLD_TO / 2 ? space : FOLD_TO);
  }

  const pad = (n) => String(n).padStart(2, "0");
  const clock = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const dayKey = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const dayLabel = (d) => d.toLocaleDateString(undefined,
    { weekday: "long", year: "numeric", month: "long", day: "numeric" });
  const fullDate = (d) => d.toLocaleString(undefined,
    { weekday: "long", year: "numeric", month: "long", day: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit" });

  return { nameKey, colourClass, adler32, utf8Length, appendLinked, safeHref,
           mentions, fold, clock, dayKey, dayLabel, fullDate, PALETTE_SIZE };
})();
