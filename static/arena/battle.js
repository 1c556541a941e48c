/* The live battle page: one WebSocket, two columns streaming side by side.
   Text pieces are shown as plain text (textContent) until the server sends the sanitised HTML of
   finished blocks; model text is never parsed as HTML here. No inline script (CSP). */
(function () {
  "use strict";
  var root = document.getElementById("battle");
  if (!root) return;
  var statusEl = document.getElementById("battle-status");
  var columns = document.getElementById("conversation");
  var form = document.getElementById("prompt-form");
  var text = document.getElementById("prompt-text");
  var label = document.getElementById("prompt-label");
  var send = document.getElementById("send-btn");
  var verdictForm = document.getElementById("verdict-form");
  var reveal = document.getElementById("reveal");
  var newRound = document.getElementById("new-round");
  var newRoundKey = document.getElementById("new-round-key");
  var OWN_KEYS = "a[href], button, summary, select, textarea, input, [contenteditable=''], [contenteditable=true]";
  var VERDICT_KEYS = {"1": "left", "2": "right", "3": "tie", "4": "both_bad"};
  var sides = {};
  var busy = false;
  var socket;

  function setStatus(message) { statusEl.textContent = message; }
  function show(el, on) { el.hidden = !on; }

  function startTurn(prompt) {
    show(columns, true);
    ["left", "right"].forEach(function (name) {
      var turn = document.createElement("div");
      turn.className = "turn streaming";
      var asked = document.createElement("p");
      asked.className = "asked";
      asked.textContent = prompt;
      var html = document.createElement("div");
      html.className = "md";
      var tail = document.createElement("span");
      tail.className = "tail";
      turn.appendChild(asked); turn.appendChild(html); turn.appendChild(tail);
      document.getElementById("side-" + name).appendChild(turn);
      sides[name] = {turn: turn, html: html, tail: tail, text: "", upto: 0};
    });
  }

  function follow(el) { var box = el.closest(".turns"); if (box) box.scrollTop = box.scrollHeight; }

  var handlers = {
    turn: function (m) {
      busy = true;
      startTurn(m.prompt);
      setStatus("Both models are answering turn " + m.turn + "…");
    },
    delta: function (m) {
      var s = sides[m.side];
      s.text += m.text;
      s.tail.textContent = s.text.slice(s.upto);
      follow(s.turn);
    },
    block: function (m) {
      var s = sides[m.side];
      s.html.insertAdjacentHTML("beforeend", m.html);  // sanitised by the server (nh3)
      s.upto = m.upto;
      s.tail.textContent = s.text.slice(s.upto);
    },
    side_done: function (m) {
      var s = sides[m.side];
      s.html.innerHTML = m.html;  // the whole answer, rendered and sanitised by the server
      s.tail.textContent = "";
      s.turn.classList.remove("streaming");
    },
    answered: function (m) {
      busy = false;
      show(verdictForm, true);
      setStatus("Both answers are complete. Vote, or ask a follow-up" +
                (m.can_follow_up ? "." : " (the last turn of this battle was reached)."));
      label.textContent = "Follow-up prompt (both models see the whole conversation)";
      send.disabled = !m.can_follow_up;
      text.disabled = !m.can_follow_up;
      showNewRound(true);
    },
    ended: function (m) {
      busy = false;
      Object.keys(sides).forEach(function (k) { sides[k].turn.classList.remove("streaming"); });
      show(verdictForm, false);
      setStatus(m.message);
      send.disabled = true; text.disabled = true;
      showNewRound(true);
    },
    refused: function (m) {
      setStatus(m.message);
      if (!busy && verdictForm.hidden && reveal.hidden) send.disabled = false;
    },
    reveal: function (m) {
      show(verdictForm, false);
      document.getElementById("left-title").textContent = "Left: " + m.left;
      document.getElementById("right-title").textContent = "Right: " + m.right;
      reveal.textContent = "";
      var p = document.createElement("p");
      p.textContent = "Left was " + m.left + ", right was " + m.right + ". " + m.message;
      if (m.void) p.className = "void";
      reveal.appendChild(p);
      show(reveal, true);
      setStatus("Vote saved.");
      send.disabled = true; text.disabled = true;
      showNewRound(true);
      newRound.focus();
    },
    cleared: function () { reset(); },
    batch: function (m) { m.frames.forEach(dispatch); }
  };

  function dispatch(message) {
    var handle = handlers[message.type];
    if (handle) handle(message);
  }

  function showNewRound(on) { show(newRound, on); show(newRoundKey, on); }

  function reset() {
    busy = false;
    sides = {};
    document.getElementById("side-left").textContent = "";
    document.getElementById("side-right").textContent = "";
    document.getElementById("left-title").textContent = "Left";
    document.getElementById("right-title").textContent = "Right";
    show(columns, false); show(verdictForm, false); show(reveal, false); showNewRound(false);
    label.textContent = "Your prompt";
    text.disabled = false; send.disabled = false; text.value = "";
    setStatus("Ready: type a prompt.");
    text.focus();
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.ws);
    socket.onopen = function () { setStatus("Ready: type a prompt."); send.disabled = false; };
    socket.onmessage = function (event) { dispatch(JSON.parse(event.data)); };
    socket.onclose = function () {
      busy = false; send.disabled = true;
      setStatus("The connection to the server was lost; reload the page to start a new battle.");
    };
  }

  function submitPrompt() {
    var value = text.value;
    if (!value.trim() || send.disabled || busy) return;
    send.disabled = true;
    show(verdictForm, false);
    socket.send(JSON.stringify({type: "prompt", text: value}));
    text.value = "";
  }

  function vote(verdict) {
    if (verdictForm.hidden) return;
    verdictForm.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    setStatus("Saving…");
    socket.send(JSON.stringify({type: "vote", verdict: verdict}));
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); submitPrompt(); });
  verdictForm.addEventListener("click", function (event) {
    var button = event.target.closest("[data-verdict]");
    if (button) vote(button.dataset.verdict);
  });
  newRound.addEventListener("click", function () {
    verdictForm.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    socket.send(JSON.stringify({type: "new"}));
  });
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.isComposing) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === text) {
      event.preventDefault(); submitPrompt(); return;
    }
    if (event.ctrlKey || event.metaKey) return;
    var own = event.target.closest ? event.target.closest(OWN_KEYS) : null;
    if (own) { if (event.key === "Escape") own.blur(); return; }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (VERDICT_KEYS[key] && !verdictForm.hidden) { event.preventDefault(); vote(VERDICT_KEYS[key]); }
    else if (key === "n" && !newRound.hidden) { event.preventDefault(); newRound.click(); }
    else if (key === "p" && !text.disabled) { event.preventDefault(); text.focus(); }
  });
  connect();
})();
