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
    if (m.text) {
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

  function botMessage(data) {
    if (!data || typeof data !== "object") return null;
    var m = { from: "bot", ts: Date.now() };
    if (typeof data.text === "string" && data.text) m.text = data.text;
    var replies = cleanReplies(data.quick_replies || data.buttons);
    if (replies.length) m.quick_replies = replies;
    var a = data.attachment;
    if (a && a.type === "image" && a.payload && typeof a.payload.src === "string" && /^https?:\/\//i.test(a.payload.src)) {
      m.image = a.payload.src;
    }
    return m.text || m.image || m.quick_replies ? m : null;
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
        return h.from === "bot" && h.text === m.text && h.image === m.image && Math.abs(h.ts - m.ts) < 10000;
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
