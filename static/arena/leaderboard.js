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

  if (document.querySelector("[data-snapshot-key], #results")) { connect(); }
})();
