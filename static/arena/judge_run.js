// The judge run page: the workers' progress fragment arrives over the WebSocket (htmx ws
// extension, swapped in by id) and carries the number of unparsed and failed judgments; when it
// changes, the list of them is fetched again, so it is never missing the latest. No inline
// script: CSP.
(function () {
  "use strict";

  function syncProblems() {
    var progress = document.getElementById("progress");
    var problems = document.getElementById("problems");
    if (!progress || !problems || !window.htmx) { return; }
    if (progress.getAttribute("data-problems") !== problems.getAttribute("data-problems")) {
      problems.setAttribute("data-problems", progress.getAttribute("data-problems"));
      window.htmx.trigger(problems, "refresh");
    }
  }

  document.addEventListener("htmx:wsAfterMessage", syncProblems);
  document.addEventListener("htmx:oobAfterSwap", syncProblems);
  document.addEventListener("htmx:afterSwap", syncProblems);
})();
