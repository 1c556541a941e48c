// Keyboard shortcuts and htmx error handling for the rating page (/rate/).
// Loaded from our own origin only: the Content-Security-Policy forbids inline scripts and hx-on.
(function () {
  "use strict";

  var PICK = {
    "1": ["choice", "A"], "2": ["choice", "B"], "3": ["choice", "tie"], "4": ["choice", "both_bad"],
    "q": ["grade_a", "A"], "w": ["grade_a", "B"], "e": ["grade_a", "C"], "r": ["grade_a", "D"],
    "u": ["grade_b", "A"], "i": ["grade_b", "B"], "o": ["grade_b", "C"], "p": ["grade_b", "D"]
  };
  var CYCLE = { "h": "helpful", "j": "honest", "k": "harmless" };
  var CYCLE_ORDER = ["A", "B", "same"];

  function isTyping(el) {
    if (!el) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && !/^(radio|checkbox|button|submit)$/i.test(el.type);
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
    radio(form, name, CYCLE_ORDER[index]).checked = true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (isTyping(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var next = document.getElementById("next-btn");
    if (next && (key === "n" || key === "Enter")) {
      event.preventDefault();
      next.click();
      return;
    }
    var form = document.getElementById("vote-form");
    if (!form) return;
    if (PICK[key]) {
      var input = radio(form, PICK[key][0], PICK[key][1]);
      if (input) { input.checked = true; input.focus(); event.preventDefault(); }
    } else if (CYCLE[key]) {
      cycle(form, CYCLE[key]);
      event.preventDefault();
    } else if (key === "c") {
      document.getElementById("comment").focus();
      event.preventDefault();
    } else if (key === "s") {
      document.getElementById("skip-reason").focus();
      event.preventDefault();
    } else if (key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // A refused vote (403 not yours, 409 lease lost, 429 too fast, 400 incomplete) is a message
  // for the rater, not a failure: show it in the message area instead of dropping it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      event.detail.target = document.getElementById("rate-messages");
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "rate-panel") {
      var messages = document.getElementById("rate-messages");
      if (messages) messages.textContent = "";
    }
  });
})();
