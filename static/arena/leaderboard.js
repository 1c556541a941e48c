// Live leaderboards and reports: when a worker stores new numbers for the snapshot a page
// shows, the server says so on /ws/leaderboard/ and the page asks htmx to re-fetch its results
// partial (the partial carries hx-trigger="snapshot-updated"). No inline script: CSP.
(function () {
  "use strict";
  var retryMs = 2000;

  function notify(key) {
    document.querySelectorAll("[data-snapshot-key]").forEach(function (el) {
      if (el.getAttribute("data-snapshot-key") === key && window.htmx) {
        window.htmx.trigger(el, "snapshot-updated");
      }
    });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/leaderboard/");
    socket.addEventListener("open", function () {
      retryMs = 2000;
      document.documentElement.setAttribute("data-live", "connected");
    });
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message && message.event === "snapshot.updated") { notify(message.key); }
    });
    socket.addEventListener("close", function () {
      document.documentElement.setAttribute("data-live", "disconnected");
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 60000);
    });
  }

  // The filter form shows what the results below it were computed for. After the browser's Back
  // button (htmx restores an older snapshot of the page, whose <select>s carry the attributes of
  // the first render) or a return from the back/forward cache, the controls would otherwise show
  // stale choices; the results section says which ones it shows (data-form-state).
  function syncForm() {
    var results = document.getElementById("results");
    var form = document.querySelector("form.filters");
    if (!results || !form || !results.hasAttribute("data-form-state")) { return; }
    var state = new URLSearchParams(results.getAttribute("data-form-state"));
    state.forEach(function (value, name) {
      var control = form.elements.namedItem(name);
      if (!control) { return; }
      if (control.type === "checkbox") {
        control.checked = value !== "";
      } else if (control.tagName === "SELECT") {
        control.value = value;
        if (control.value !== value && control.options.length) { control.selectedIndex = 0; }
      }
    });
  }

  // Categories belong to a prompt set: a newly chosen set starts from every category (the
  // results bring that set's list into the form, out of band), never from a category the set
  // may not have. Capturing: this runs before htmx sends the form on the same change.
  document.addEventListener("change", function (event) {
    var control = event.target;
    if (!control || control.name !== "prompt_set" || !control.form) { return; }
    var category = control.form.elements.namedItem("category");
    if (category && category.tagName === "SELECT") { category.value = ""; }
  }, true);

  document.addEventListener("htmx:historyRestore", syncForm);
  document.addEventListener("htmx:afterSettle", syncForm);
  window.addEventListener("pageshow", syncForm);

  // A bad filter (400) and numbers this visitor may not have computed (403) come back as a
  // results partial that says why: show it instead of ignoring the answer, as htmx does by default.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 403) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  if (document.querySelector("[data-snapshot-key], #results")) { connect(); }
})();
