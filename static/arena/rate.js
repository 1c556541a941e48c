// Keyboard shortcuts, focus, the "Saving…" status and htmx error handling for the rating pages
// (/rate/ and a vote's change page). Loaded from our own origin only: the Content-Security-Policy
// forbids inline scripts and hx-on.
(function () {
  "use strict";

  var VERDICTS = { "1": "A", "2": "B", "3": "tie", "4": "both_bad" };
  var GRADES = {
    "q": ["grade_a", "A"], "w": ["grade_a", "B"], "e": ["grade_a", "C"], "r": ["grade_a", "D"],
    "u": ["grade_b", "A"], "i": ["grade_b", "B"], "o": ["grade_b", "C"], "p": ["grade_b", "D"]
  };
  var CYCLE = { "h": "helpful", "j": "honest", "k": "harmless" };
  var CYCLE_ORDER = ["A", "B", "same"];
  // Elements with keys of their own: Enter follows a link, presses a button, opens a summary;
  // text fields take typing. While one has the focus no shortcut acts (Esc leaves it).
  var OWN_KEYS = "a[href], button, summary, select, textarea, [contenteditable=''], [contenteditable=true], " +
    "input:not([type=radio]):not([type=checkbox]):not([type=hidden])";

  function verdictForm() {
    return document.querySelector("form[data-verdict-form]");
  }

  function radio(form, name, value) {
    return form.querySelector('input[type="radio"][name="' + name + '"][value="' + value + '"]');
  }

  function cycle(form, name) {
    var current = form.querySelector('input[type="radio"][name="' + name + '"]:checked');
    var index = current ? CYCLE_ORDER.indexOf(current.value) + 1 : 0;
    if (index >= CYCLE_ORDER.length) {
      current.checked = false;
      return;
    }
    var next = radio(form, name, CYCLE_ORDER[index]);
    if (next) next.checked = true;
  }

  function verdict(form, value) {
    // One-click: the verdict buttons submit at once. Two-step: the verdict radios.
    var button = form.querySelector('button[name="choice"][value="' + value + '"]');
    if (button) {
      if (!button.disabled) button.click();
      return;
    }
    var input = radio(form, "choice", value);
    if (input) { input.checked = true; input.focus(); }
  }

  function onEnter(event) {
    // Enter submits the form that holds the focus (a radio or checkbox of it); with the focus on
    // the page itself, Next after a reveal, else the two-step vote.
    var holder = event.target.closest ? event.target.closest("form") : null;
    if (holder) {
      event.preventDefault();
      holder.requestSubmit();
      return;
    }
    var next = document.getElementById("next-btn");
    if (next) {
      event.preventDefault();
      next.click();
      return;
    }
    var vote = document.getElementById("vote-form");
    if (vote && !vote.classList.contains("one-click")) {
      event.preventDefault();
      vote.requestSubmit();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var own = event.target.closest ? event.target.closest(OWN_KEYS) : null;
    if (own) {
      if (event.key === "Escape") own.blur();
      return;
    }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === "Enter") {
      onEnter(event);
      return;
    }
    var next = document.getElementById("next-btn");
    if (next && key === "n") {
      event.preventDefault();
      next.click();
      return;
    }
    var form = verdictForm();
    if (!form) return;
    if (VERDICTS[key]) {
      verdict(form, VERDICTS[key]);
      event.preventDefault();
    } else if (GRADES[key]) {
      var input = radio(form, GRADES[key][0], GRADES[key][1]);
      if (input) { input.checked = true; input.focus(); event.preventDefault(); }
    } else if (CYCLE[key]) {
      cycle(form, CYCLE[key]);
      event.preventDefault();
    } else if (key === "c") {
      var comment = form.querySelector("textarea[name=comment]");
      if (comment) { comment.focus(); event.preventDefault(); }
    } else if (key === "s") {
      var reason = document.getElementById("skip-reason");
      if (reason) { reason.focus(); event.preventDefault(); }
    }
  });

  function status(form, text) {
    var saving = form && form.querySelector(".saving");
    if (saving) saving.textContent = text;
  }

  // While a vote, a skip or details are on their way, the form says so.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.tagName === "FORM") status(event.detail.elt, "Saving…");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt.tagName === "FORM") status(event.detail.elt, "");
  });

  // A refused vote (403 not yours, 409 lease lost, 429 too fast, 400 incomplete) is a message
  // for the rater, not a failure: show it in the message area instead of dropping it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var code = event.detail.xhr.status;
    if (code >= 400 && code < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      event.detail.target = document.getElementById("rate-messages");
    }
  });

  // After a new panel (the reveal, the next comparison, a skip) the focus returns to the page:
  // htmx would otherwise move it into the new element with the focused one's id (the new skip
  // box), where the next shortcut would be typed as text.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "rate-panel") return;
    var messages = document.getElementById("rate-messages");
    if (messages) messages.textContent = "";
    var panel = document.getElementById("rate-panel");
    if (panel) panel.focus({ preventScroll: true });
  });
})();
