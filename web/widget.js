/*!
 * 债务催收权益助手 · web chat widget for a Rasa socket.io channel.
 *
 * Embed with one tag (everything else loads from the same folder):
 *   <script src="https://HOST/webhooks/socketio/webchat/widget.js"
 *           data-server="https://HOST" async></script>
 *
 * Options (data-* attributes of that script tag, all optional):
 *   data-server        Rasa server origin        (default: the script's origin)
 *   data-socket-path   socket.io path            (default: /socket.io)
 *   data-title         header title              (default: 债务催收权益助手)
 *   data-open          "true": open on first visit (mobile: full screen)
 *   data-init-payload  sent once, silently, when a conversation starts (e.g. /greet)
 *   data-welcome       first bot bubble of a new conversation ("" for none)
 *
 * The UI lives in a shadow root, so the host page's CSS neither leaks in nor out.
 * Bot text is rendered with text nodes only (never innerHTML).
 * A bot message whose `custom.structured` is a version-1 structured answer is shown
 * as one card (answer, steps, legal basis, help lines, a document to copy or
 * download); any other message shows its text.
 */
(function () {
  "use strict";

  if (window.DebtChatWidget) return; // the tag is on the page twice

  var script =
    document.currentScript ||
    (function () {
      var tags = document.querySelectorAll('script[src*="widget.js"]');
      return tags[tags.length - 1];
    })();
  if (!script || !script.src) return;

  var opts = script.dataset || {};
  var BASE = new URL(".", script.src).href; // …/webchat/
  var SERVER = (opts.server || new URL(script.src).origin).replace(/\/+$/, "");
  var SOCKET_PATH = opts.socketPath || "/socket.io";
  var TITLE = opts.title || "债务催收权益助手";
  var INIT_PAYLOAD = opts.initPayload || "";
  // A returning user (last message older than the server's session expiry, 12 h by default)
  // asks the server for a new session: it greets them with where they left off.
  var RESUME_AFTER_MS = (Number(opts.resumeAfterHours) || 12) * 3600 * 1000;
  var SESSION_START = "/session_start";
  var WELCOME =
    opts.welcome !== undefined
      ? opts.welcome
      : "你好，我是债务催收权益助手。被催收时遇到的问题都可以问我，比如：\n“催收的人上门不走怎么办？”\n“催收打电话给我爸妈合法吗？”";
  var NOTE = "本助手提供法律信息，不替代律师意见。\n紧急情况请拨打 110 · 法律援助热线 12348";
  var USER_EVT = "user_uttered";
  var BOT_EVT = "bot_uttered";
  var MAX_HISTORY = 200;
  var MAX_INPUT = 1000;
  var TYPING_TIMEOUT_MS = 30000;
  var TIME_GAP_MS = 5 * 60 * 1000;
  var TAB_ID = Math.random().toString(36).slice(2) + Date.now().toString(36);

  // --- storage: localStorage, or memory where it is blocked ------------------

  var store = (function () {
    var prefix = "debtchat:" + SERVER + ":";
    var memory = {};
    var local = null;
    try {
      local = window.localStorage;
      local.setItem(prefix + "probe", "1");
      local.removeItem(prefix + "probe");
    } catch (e) {
      local = null;
    }
    return {
      prefix: prefix,
      get: function (key) {
        if (local) {
          try {
            return local.getItem(prefix + key);
          } catch (e) { /* fall through */ }
        }
        return Object.prototype.hasOwnProperty.call(memory, key) ? memory[key] : null;
      },
      set: function (key, value) {
        memory[key] = value;
        if (local) {
          try {
            local.setItem(prefix + key, value);
          } catch (e) { /* quota: memory only */ }
        }
      },
      remove: function (key) {
        delete memory[key];
        if (local) {
          try {
            local.removeItem(prefix + key);
          } catch (e) { /* ignore */ }
        }
      },
    };
  })();

  function loadHistory() {
    var items;
    try {
      items = JSON.parse(store.get("history") || "[]");
    } catch (e) {
      items = [];
    }
    if (!Array.isArray(items)) return [];
    return items.filter(function (m) {
      return m && (m.from === "user" || m.from === "bot") && typeof m.ts === "number";
    });
  }

  function saveHistory() {
    if (history.length > MAX_HISTORY) history = history.slice(history.length - MAX_HISTORY);
    store.set("history", JSON.stringify(history));
  }

  // --- state -----------------------------------------------------------------

  var history = loadHistory();
  var socket = null;
  var ready = false; // connected and session confirmed
  var outbox = [];
  var typingTimer = null;
  var sessionId = store.get("session");
  var ui = {};

  // --- DOM helpers (no innerHTML with data, ever) ------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  function icon(paths, viewBox) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", viewBox || "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    paths.forEach(function (d) {
      var p = document.createElementNS(SVG_NS, "path");
      p.setAttribute("d", d);
      svg.appendChild(p);
    });
    return svg;
  }
  var ICONS = {
    chat: ["M12 3C6.5 3 2 6.8 2 11.5c0 2.6 1.4 5 3.7 6.5L5 21.5l4-2.2c1 .3 2 .4 3 .4 5.5 0 10-3.8 10-8.5S17.5 3 12 3z"],
    back: ["M15.4 4.6 8 12l7.4 7.4-1.4 1.4L5.2 12 14 3.2z"],
    close: ["M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z"],
    reset: ["M12 5V1L7 6l5 5V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-7z"],
    // scales of justice
    bot: [
      "M12 3a1.5 1.5 0 0 1 1.4 1H18v1.6h-1.2l2.7 6.2c0 1.7-1.5 2.8-3.2 2.8s-3.2-1.1-3.2-2.8l2.7-6.2h-2.4a1.5 1.5 0 0 1-.8.8V18h3.6v1.8H7.8V18h3.6V6.4a1.5 1.5 0 0 1-.8-.8H8.2l2.7 6.2c0 1.7-1.5 2.8-3.2 2.8s-3.2-1.1-3.2-2.8l2.7-6.2H6V4h4.6A1.5 1.5 0 0 1 12 3zm4.3 4.3-1.8 4.4h3.6zm-8.6 0-1.8 4.4h3.6z",
    ],
    user: ["M12 12.5a4.3 4.3 0 1 0 0-8.6 4.3 4.3 0 0 0 0 8.6zm0 1.9c-3.6 0-8 1.8-8 4.6V21h16v-2c0-2.8-4.4-4.6-8-4.6z"],
  };

  var URL_RE = /https?:\/\/[^\s<>"'，。；：、！？）】」]+/g;

  /** Text with newlines kept (CSS pre-wrap) and http(s) links made clickable, as nodes. */
  function richText(target, text) {
    var last = 0;
    text.replace(URL_RE, function (url, index) {
      if (index > last) target.appendChild(document.createTextNode(text.slice(last, index)));
      var a = el("a", null, url);
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer nofollow";
      target.appendChild(a);
      last = index + url.length;
      return url;
    });
    if (last < text.length) target.appendChild(document.createTextNode(text.slice(last)));
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function formatTime(ts) {
    var d = new Date(ts);
    var now = new Date();
    var hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
    if (d.toDateString() === now.toDateString()) return hm;
    if (d.getFullYear() === now.getFullYear()) return d.getMonth() + 1 + "月" + d.getDate() + "日 " + hm;
    return d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate() + "日 " + hm;
  }

  // --- rendering ---------------------------------------------------------------

  function avatar(kind) {
    var box = el("div", "avatar " + kind);
    box.appendChild(icon(ICONS[kind]));
    return box;
  }

  function messageNode(m, withQuickReplies) {
    var row = el("div", "row " + m.from);
    var content = el("div", "content");
    var structured = m.from === "bot" ? cleanStructured(m.structured) : null;
    if (structured) {
      content.className += " wide";
      content.appendChild(structuredNode(structured, m.text || ""));
    } else if (m.text) {
      var bubble = el("div", "bubble");
      richText(bubble, m.text);
      content.appendChild(bubble);
    }
    if (m.image) {
      var figure = el("div", "bubble image");
      var img = el("img");
      img.src = m.image;
      img.alt = "图片";
      img.loading = "lazy";
      img.addEventListener("load", scrollToEnd);
      figure.appendChild(img);
      content.appendChild(figure);
    }
    if (withQuickReplies && m.quick_replies && m.quick_replies.length) {
      content.appendChild(quickRepliesNode(m.quick_replies));
    }
    if (m.from === "bot") {
      row.appendChild(avatar("bot"));
      row.appendChild(content);
    } else {
      row.appendChild(content);
      row.appendChild(avatar("user"));
    }
    return row;
  }

  function quickRepliesNode(replies) {
    var box = el("div", "quick");
    replies.forEach(function (r) {
      var b = el("button", "reply", r.title);
      b.type = "button";
      b.addEventListener("click", function () {
        removeQuickReplies();
        send(r.payload, r.title);
      });
      box.appendChild(b);
    });
    return box;
  }

  function removeQuickReplies() {
    var boxes = ui.log.querySelectorAll(".quick");
    for (var i = 0; i < boxes.length; i++) boxes[i].parentNode.removeChild(boxes[i]);
  }

  function timeNode(ts) {
    return el("div", "time", formatTime(ts));
  }

  function needsTime(prev, m) {
    return !prev || m.ts - prev.ts > TIME_GAP_MS;
  }

  function renderAll() {
    var log = ui.log;
    revokeDownloads();
    while (log.firstChild) log.removeChild(log.firstChild);
    log.appendChild(el("div", "note", NOTE));
    history.forEach(function (m, i) {
      if (needsTime(history[i - 1], m)) log.appendChild(timeNode(m.ts));
      log.appendChild(messageNode(m, i === history.length - 1 && m.from === "bot"));
    });
    if (typingTimer) log.appendChild(ui.typing);
    scrollToEnd();
  }

  function appendMessage(m) {
    var prev = history[history.length - 1];
    history.push(m);
    saveHistory();
    removeQuickReplies();
    var log = ui.log;
    var typingShown = ui.typing.parentNode === log;
    if (typingShown) log.removeChild(ui.typing);
    if (needsTime(prev, m)) log.appendChild(timeNode(m.ts));
    log.appendChild(messageNode(m, m.from === "bot"));
    if (typingShown) log.appendChild(ui.typing);
    scrollToEnd();
  }

  function scrollToEnd() {
    if (ui.log) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function showTyping() {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
    ui.log.appendChild(ui.typing); // (re)appended at the end
    scrollToEnd();
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    typingTimer = null;
    if (ui.typing.parentNode) ui.typing.parentNode.removeChild(ui.typing);
  }

  function setStatus(text) {
    ui.status.textContent = text || "";
    ui.status.hidden = !text;
  }

  // --- structured answers (custom.structured, version 1) ------------------------
  //
  // {v: 1, kind, answer, notes[], steps[], basis[{citation, quote, paraphrase, soft_law}],
  //  help[{name, contact, tel}], document{title, body, filename}, disclaimer, also[{title, payload}]}
  // Every string becomes a text node; nothing from the server is ever parsed as HTML.

  var MAX_ITEMS = 30;
  var MAX_FIELD = 4000;
  var MAX_DOCUMENT = 30000;
  var TEL_RE = /^\+?[0-9][0-9 -]{1,30}$/;
  var LABELS = {
    hans: {
      steps: "现在可以这样做",
      basis: "法律依据（{n}条）",
      help: "求助",
      paraphrase: "（大意）",
      softLaw: "行业规范或推荐标准，不是法律",
      copy: "复制",
      copied: "已复制",
      selected: "已选中，请长按复制",
      download: "下载",
      document: "文书",
    },
    hant: {
      steps: "現在可以這樣做",
      basis: "法律依據（{n}條）",
      help: "求助",
      paraphrase: "（大意）",
      softLaw: "行業規範或推薦標準，不是法律",
      copy: "複製",
      copied: "已複製",
      selected: "已選取，請長按複製",
      download: "下載",
      document: "文書",
    },
  };
  // Frequent characters that exist only in Traditional script: the server converts the
  // whole answer, so the widget's own labels follow the script of the answer.
  var TRADITIONAL_ONLY =
    "這們說會對來時從過還經與麼為請該應權問題條規範務債錢銀費電話報處據關個實發現樣將後點當給讓無沒聽見覺態師險證書協議審單額業標準區網護確認識談調紀錄絡聯";
  var downloadUrls = [];

  function cleanString(value, max) {
    return typeof value === "string" && value.trim() ? value.slice(0, max || MAX_FIELD) : "";
  }

  function cleanList(list, clean) {
    if (!Array.isArray(list)) return [];
    var out = [];
    for (var i = 0; i < list.length && out.length < MAX_ITEMS; i++) {
      var item = clean(list[i]);
      if (item) out.push(item);
    }
    return out;
  }

  function cleanBasis(b) {
    if (!b || typeof b !== "object") return null;
    var citation = cleanString(b.citation);
    var quote = cleanString(b.quote);
    if (!citation && !quote) return null;
    return { citation: citation, quote: quote, paraphrase: b.paraphrase === true, soft_law: b.soft_law === true };
  }

  function cleanHelp(h) {
    if (!h || typeof h !== "object") return null;
    var name = cleanString(h.name, 200);
    var contact = cleanString(h.contact, 200);
    var tel = typeof h.tel === "string" && TEL_RE.test(h.tel.trim()) ? h.tel.trim() : "";
    return name || contact || tel ? { name: name, contact: contact, tel: tel } : null;
  }

  function cleanDocument(d) {
    if (!d || typeof d !== "object") return null;
    var body = cleanString(d.body, MAX_DOCUMENT);
    if (!body) return null;
    return { title: cleanString(d.title, 200), body: body, filename: cleanString(d.filename, 200) };
  }

  /** A renderable version-1 structured answer, or null (then the text is shown as before). */
  function cleanStructured(s) {
    if (!s || typeof s !== "object" || s.v !== 1 || !cleanString(s.kind, 40)) return null;
    var out = {
      v: 1,
      kind: s.kind.slice(0, 40),
      answer: cleanString(s.answer),
      notes: cleanList(s.notes, cleanString),
      steps: cleanList(s.steps, cleanString),
      basis: cleanList(s.basis, cleanBasis),
      help: cleanList(s.help, cleanHelp),
      document: cleanDocument(s.document),
      disclaimer: cleanString(s.disclaimer),
    };
    var lists = out.notes.length + out.steps.length + out.basis.length + out.help.length;
    return out.answer || out.document || lists ? out : null;
  }

  function labelsFor(s, text) {
    var sample = [text, s.answer].concat(s.notes, s.steps).join("");
    var hits = 0;
    for (var i = 0; i < sample.length && hits < 2; i++) {
      if (TRADITIONAL_ONLY.indexOf(sample.charAt(i)) >= 0) hits++;
    }
    return hits >= 2 ? LABELS.hant : LABELS.hans;
  }

  function structuredNode(s, text) {
    var L = labelsFor(s, text);
    var bubble = el("div", "bubble structured");
    if (s.answer) {
      var answer = el("div", "answer");
      richText(answer, s.answer);
      bubble.appendChild(answer);
    }
    s.notes.forEach(function (note) {
      var p = el("p", "para");
      richText(p, note);
      bubble.appendChild(p);
    });
    if (s.steps.length) {
      var steps = el("div", "section");
      steps.appendChild(el("div", "heading", L.steps));
      var ol = el("ol", "steps");
      s.steps.forEach(function (step) {
        var li = el("li");
        richText(li, step);
        ol.appendChild(li);
      });
      steps.appendChild(ol);
      bubble.appendChild(steps);
    }
    if (s.document) bubble.appendChild(documentNode(s.document, L));
    if (s.basis.length) bubble.appendChild(basisNode(s.basis, L));
    if (s.help.length) bubble.appendChild(helpNode(s.help, L));
    if (s.disclaimer) bubble.appendChild(el("p", "disclaimer", s.disclaimer));
    return bubble;
  }

  function basisNode(list, L) {
    var details = el("details", "section basis");
    details.appendChild(el("summary", null, L.basis.replace("{n}", list.length)));
    var ul = el("ul", "basis-list");
    list.forEach(function (b) {
      var li = el("li");
      if (b.citation) li.appendChild(el("strong", "citation", b.citation));
      if (b.quote) {
        if (b.paraphrase) li.appendChild(el("span", "paraphrase", L.paraphrase));
        if (b.citation) li.appendChild(document.createTextNode("："));
        li.appendChild(el("span", "quote", b.paraphrase ? b.quote : "“" + b.quote + "”"));
      }
      // The server's text may already carry the note; never say it twice.
      if (b.soft_law && (b.citation + b.quote).indexOf("不是法律") < 0) {
        li.appendChild(el("span", "tag soft-law", L.softLaw));
      }
      ul.appendChild(li);
    });
    details.appendChild(ul);
    details.addEventListener("toggle", function () {
      if (details.open && details.scrollIntoView) details.scrollIntoView({ block: "nearest", behavior: "smooth" });
    });
    return details;
  }

  function telLink(tel) {
    var a = el("a", "tel", tel);
    a.href = "tel:" + tel.replace(/[^0-9+]/g, "");
    return a;
  }

  function helpNode(list, L) {
    var box = el("div", "section help");
    box.appendChild(el("div", "heading", L.help));
    var ul = el("ul", "help-list");
    list.forEach(function (h) {
      var li = el("li");
      if (h.name) li.appendChild(el("span", "help-name", h.name));
      if (h.name && (h.contact || h.tel)) li.appendChild(document.createTextNode("："));
      var contact = h.contact || h.tel;
      var at = h.tel ? contact.indexOf(h.tel) : -1;
      if (!h.tel) {
        li.appendChild(document.createTextNode(contact));
      } else if (at < 0) {
        li.appendChild(document.createTextNode(contact + " "));
        li.appendChild(telLink(h.tel));
      } else {
        if (at > 0) li.appendChild(document.createTextNode(contact.slice(0, at)));
        li.appendChild(telLink(h.tel));
        var rest = contact.slice(at + h.tel.length);
        if (rest) li.appendChild(document.createTextNode(rest));
      }
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }

  function fileName(d, L) {
    var name = (d.filename || d.title || L.document).replace(/[\\/:*?"<>|\u0000-\u001f]+/g, "").trim();
    name = name.slice(0, 80) || L.document;
    return /\.txt$/i.test(name) ? name : name + ".txt";
  }

  /** A blob: URL of the text as a UTF-8 file with BOM (so Windows Notepad shows Chinese right). */
  function downloadUrl(text) {
    var content = "\ufeff" + text;
    try {
      var url = URL.createObjectURL(new Blob([content], { type: "text/plain;charset=utf-8" }));
      downloadUrls.push(url);
      return url;
    } catch (e) {
      return "data:text/plain;charset=utf-8," + encodeURIComponent(content);
    }
  }

  function revokeDownloads() {
    downloadUrls.forEach(function (url) {
      try {
        URL.revokeObjectURL(url);
      } catch (e) { /* ignore */ }
    });
    downloadUrls = [];
  }

  function documentNode(d, L) {
    var box = el("div", "section doc");
    if (d.title) box.appendChild(el("div", "doc-title", d.title));
    var body = el("pre", "doc-body", d.body);
    body.tabIndex = 0;
    box.appendChild(body);
    var actions = el("div", "doc-actions");
    var copy = el("button", "doc-copy", L.copy);
    copy.type = "button";
    copy.addEventListener("click", function () {
      copyText(d.body, body, copy, L);
    });
    var download = el("a", "doc-download", L.download);
    download.href = downloadUrl(d.body);
    download.download = fileName(d, L);
    download.setAttribute("role", "button");
    actions.appendChild(copy);
    actions.appendChild(download);
    box.appendChild(actions);
    return box;
  }

  function selectText(node) {
    try {
      var range = document.createRange();
      range.selectNodeContents(node);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    } catch (e) { /* nothing more to do */ }
  }

  /** The old way, for browsers (and in-app web views) without the async clipboard. */
  function legacyCopy(node) {
    selectText(node);
    try {
      return document.execCommand("copy") === true;
    } catch (e) {
      return false;
    }
  }

  function copyText(text, node, button, L) {
    function done(ok) {
      if (!ok) selectText(node); // the person copies it by hand
      button.textContent = ok ? L.copied : L.selected;
      button.classList.add("done");
      clearTimeout(button.resetTimer);
      button.resetTimer = setTimeout(function () {
        button.textContent = L.copy;
        button.classList.remove("done");
      }, 2500);
    }
    var clipboard = navigator.clipboard;
    var pending = null;
    if (clipboard && typeof clipboard.writeText === "function") {
      try {
        pending = clipboard.writeText(text);
      } catch (e) {
        pending = null;
      }
    }
    if (pending && typeof pending.then === "function") {
      pending.then(
        function () {
          done(true);
        },
        function () {
          done(legacyCopy(node));
        }
      );
    } else {
      done(legacyCopy(node));
    }
  }

  // --- bot messages ------------------------------------------------------------

  function cleanReplies(list) {
    if (!Array.isArray(list)) return [];
    return list
      .filter(function (r) {
        return r && typeof r.title === "string" && r.title && (typeof r.payload === "string" || typeof r.payload === "number");
      })
      .map(function (r) {
        return { title: r.title.slice(0, 80), payload: String(r.payload) };
      });
  }

  function mergeReplies(first, more) {
    var seen = {};
    return first.concat(more).filter(function (r) {
      if (seen[r.payload]) return false;
      seen[r.payload] = true;
      return true;
    });
  }

  function botMessage(data) {
    if (!data || typeof data !== "object") return null;
    var m = { from: "bot", ts: Date.now() };
    if (typeof data.text === "string" && data.text) m.text = data.text;
    var replies = cleanReplies(data.quick_replies || data.buttons);
    var custom = data.custom && typeof data.custom === "object" ? data.custom : null;
    var structured = custom ? cleanStructured(custom.structured) : null;
    if (structured) {
      m.structured = structured;
      // "You also mentioned …" offers are quick replies like the others.
      replies = mergeReplies(replies, cleanReplies(custom.structured.also));
    }
    if (replies.length) m.quick_replies = replies;
    var a = data.attachment;
    if (a && a.type === "image" && a.payload && typeof a.payload.src === "string" && /^https?:\/\//i.test(a.payload.src)) {
      m.image = a.payload.src;
    }
    return m.text || m.image || m.quick_replies || m.structured ? m : null;
  }

  // Every tab of the site with this widget joins the session's room and hears every reply.
  // The tab that sent the last message records replies at once; the others re-render on the
  // storage event, and record a reply themselves only if no tab has after a short wait
  // (the sending tab was closed, or the message came without a user message).
  function onBotUttered(data) {
    var m = botMessage(data);
    hideTyping();
    if (!m) return;
    var writer = store.get("writer");
    if (!writer || writer === TAB_ID) {
      appendMessage(m);
      noteUnread();
      return;
    }
    setTimeout(function () {
      history = loadHistory();
      var recorded = history.some(function (h) {
        return (
          h.from === "bot" &&
          h.text === m.text &&
          h.image === m.image &&
          JSON.stringify(h.structured || null) === JSON.stringify(m.structured || null) &&
          Math.abs(h.ts - m.ts) < 10000
        );
      });
      if (recorded) renderAll();
      else appendMessage(m);
      noteUnread();
    }, 1500);
  }

  function noteUnread() {
    if (!isOpen()) ui.launcher.classList.add("unread");
  }

  // --- socket ------------------------------------------------------------------

  function loadSocketIo(done) {
    if (loadSocketIo.lib) return done(loadSocketIo.lib);
    var hadIo = Object.prototype.hasOwnProperty.call(window, "io");
    var hostIo = window.io;
    var amd = typeof window.define === "function" && window.define.amd ? window.define : null;
    if (amd) window.define = undefined; // make the UMD bundle set a global, not an AMD module
    var tag = document.createElement("script");
    tag.src = BASE + "vendor/socket.io.min.js";
    tag.async = true;
    tag.onload = function () {
      var lib = window.io;
      if (amd) window.define = amd;
      if (hadIo) window.io = hostIo; // leave the host page's own socket.io alone
      else {
        try {
          delete window.io;
        } catch (e) {
          window.io = undefined;
        }
      }
      loadSocketIo.lib = lib;
      done(lib);
    };
    tag.onerror = function () {
      if (amd) window.define = amd;
      setStatus("无法加载聊天组件，请刷新重试");
    };
    document.head.appendChild(tag);
  }

  function connect() {
    if (socket) return;
    socket = true; // loading
    setStatus("连接中…");
    loadSocketIo(function (io) {
      socket = io(SERVER, { path: SOCKET_PATH, reconnectionDelayMax: 10000 });
      socket.on("connect", function () {
        ready = false;
        socket.emit("session_request", { session_id: sessionId });
      });
      socket.on("session_confirm", function (data) {
        var id = data && typeof data === "object" ? data.session_id : data;
        if (typeof id !== "string" || !id) return;
        var fresh = !history.some(function (m) {
          return m.from === "user";
        });
        sessionId = id;
        store.set("session", id);
        ready = true;
        setStatus("");
        if (fresh && INIT_PAYLOAD && !store.get("init:" + id)) {
          store.set("init:" + id, "1");
          store.set("writer", TAB_ID);
          socket.emit(USER_EVT, { message: INIT_PAYLOAD, session_id: sessionId });
        } else if (!fresh) {
          resumeIfReturning();
        }
        flush();
      });
      socket.on(BOT_EVT, onBotUttered);
      socket.on("disconnect", function (reason) {
        ready = false;
        setStatus(reason === "io client disconnect" ? "" : "网络已断开，正在重连…");
      });
      socket.on("connect_error", function () {
        ready = false;
        setStatus("暂时连不上服务器，正在重试…");
      });
    });
  }

  function lastActivity() {
    var last = 0;
    history.forEach(function (m) {
      if (typeof m.ts === "number" && m.ts > last) last = m.ts;
    });
    return last;
  }

  /** Days later: start a new session once, so the server can offer to continue the unfinished flow. */
  function resumeIfReturning() {
    var last = lastActivity();
    if (!last || Date.now() - last < RESUME_AFTER_MS || store.get("resumed:" + last)) return;
    store.set("resumed:" + last, "1");
    store.set("writer", TAB_ID);
    socket.emit(USER_EVT, { message: SESSION_START, session_id: sessionId });
  }

  function flush() {
    if (!ready) return connect();
    while (outbox.length) {
      socket.emit(USER_EVT, { message: outbox.shift(), session_id: sessionId });
    }
  }

  /** Send `message` to the bot; show `shown` (or the message) as the user's bubble. */
  function send(message, shown) {
    message = String(message || "").trim();
    if (!message) return;
    store.set("writer", TAB_ID);
    appendMessage({ from: "user", text: String(shown || message).slice(0, MAX_INPUT), ts: Date.now() });
    outbox.push(message.slice(0, MAX_INPUT));
    showTyping();
    flush();
  }

  // --- open / close ------------------------------------------------------------

  function isOpen() {
    return ui.root.classList.contains("open");
  }

  function setOpen(open) {
    if (!ui.root) return; // called before the page finished loading
    ui.root.classList.toggle("open", open);
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    store.set("open", open ? "1" : "0");
    if (open) {
      ui.launcher.classList.remove("unread");
      connect();
      scrollToEnd();
      if (!("ontouchstart" in window)) ui.input.focus();
    }
  }

  function resetConversation() {
    if (!window.confirm("清空聊天记录并开始新的对话？")) return;
    history = [];
    store.remove("history");
    store.remove("session");
    sessionId = null;
    hideTyping();
    startConversation();
    if (socket && socket !== true) {
      socket.disconnect();
      socket.connect(); // session_request without an id: the server issues a new one
    }
  }

  function startConversation() {
    if (!history.length && WELCOME && !INIT_PAYLOAD) {
      history.push({ from: "bot", text: WELCOME, ts: Date.now() });
      saveHistory();
    }
    renderAll();
  }

  // --- build -------------------------------------------------------------------

  function build() {
    var host = el("div");
    host.id = "debt-chat-widget";
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

    var css = el("link");
    css.rel = "stylesheet";
    css.href = BASE + "widget.css";
    var wrap = el("div", "wrap");
    wrap.hidden = true; // until the stylesheet is in, so nothing flashes unstyled
    css.onload = css.onerror = function () {
      wrap.hidden = false;
    };

    var launcher = el("button", "launcher");
    launcher.type = "button";
    launcher.title = "在线咨询";
    launcher.setAttribute("aria-label", "打开在线咨询");
    launcher.appendChild(icon(ICONS.chat));

    var panel = el("section", "panel");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", TITLE);
    panel.hidden = true;

    var bar = el("header", "bar");
    var close = el("button", "icon-btn close");
    close.type = "button";
    close.setAttribute("aria-label", "关闭");
    close.title = "关闭";
    close.appendChild(icon(ICONS.back));
    close.appendChild(icon(ICONS.close));
    var titles = el("div", "titles");
    titles.appendChild(el("div", "title", TITLE));
    var status = el("div", "status");
    status.hidden = true;
    titles.appendChild(status);
    var reset = el("button", "icon-btn reset");
    reset.type = "button";
    reset.setAttribute("aria-label", "清空记录");
    reset.title = "清空记录，开始新对话";
    reset.appendChild(icon(ICONS.reset));
    bar.appendChild(close);
    bar.appendChild(titles);
    bar.appendChild(reset);

    var log = el("div", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");

    var typing = el("div", "row bot typing");
    typing.appendChild(avatar("bot"));
    var dots = el("div", "bubble dots");
    dots.setAttribute("aria-label", "对方正在输入");
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    var typingContent = el("div", "content");
    typingContent.appendChild(dots);
    typing.appendChild(typingContent);

    var form = el("form", "composer");
    var input = el("textarea", "input");
    input.rows = 1;
    input.maxLength = MAX_INPUT;
    input.placeholder = "请输入你的问题…";
    input.setAttribute("aria-label", "请输入你的问题");
    input.setAttribute("enterkeyhint", "send");
    var sendBtn = el("button", "send", "发送");
    sendBtn.type = "submit";
    sendBtn.disabled = true;
    form.appendChild(input);
    form.appendChild(sendBtn);

    panel.appendChild(bar);
    panel.appendChild(log);
    panel.appendChild(form);
    wrap.appendChild(panel);
    wrap.appendChild(launcher);
    root.appendChild(css);
    root.appendChild(wrap);
    document.body.appendChild(host);

    ui = { host: host, root: wrap, launcher: launcher, panel: panel, log: log, typing: typing, input: input, send: sendBtn, status: status };

    function autosize() {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight, 110) + "px";
      sendBtn.disabled = !input.value.trim();
    }
    function submit() {
      var text = input.value;
      if (!text.trim()) return;
      input.value = "";
      autosize();
      send(text);
    }
    input.addEventListener("input", autosize);
    input.addEventListener("keydown", function (e) {
      // Enter sends; Shift+Enter is a new line; Enter that confirms a Chinese IME word does not send.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit();
      }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      submit();
    });
    launcher.addEventListener("click", function () {
      setOpen(!isOpen());
    });
    close.addEventListener("click", function () {
      setOpen(false);
    });
    reset.addEventListener("click", resetConversation);
    wrap.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && isOpen()) setOpen(false);
    });

    // Another tab of this site changed the conversation: show the same.
    window.addEventListener("storage", function (e) {
      if (!e.key || e.key.indexOf(store.prefix) !== 0) return;
      var key = e.key.slice(store.prefix.length);
      if (key === "history") {
        history = loadHistory();
        renderAll();
      } else if (key === "session") {
        sessionId = e.newValue;
        if (socket && socket !== true && socket.connected) socket.emit("session_request", { session_id: sessionId });
      }
    });

    startConversation();
    var saved = store.get("open");
    if (saved === "1" || (saved === null && (opts.open === "true" || opts.open === ""))) setOpen(true);
  }

  window.DebtChatWidget = {
    open: function () {
      setOpen(true);
    },
    close: function () {
      setOpen(false);
    },
    send: function (text) {
      setOpen(true);
      send(text);
    },
  };

  if (document.body) build();
  else document.addEventListener("DOMContentLoaded", build);
})();
