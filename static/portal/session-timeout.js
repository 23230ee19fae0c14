/* Warns before the server session times out and offers to extend it.
   Progressive enhancement only: without JavaScript nothing changes, and
   completed steps are stored on the server anyway. */
(function () {
  "use strict";
  var box = document.querySelector("[data-session-warning]");
  if (!box || !window.fetch) {
    return;
  }
  var lifetime = parseInt(box.getAttribute("data-session-seconds"), 10);
  if (!lifetime || lifetime < 120) {
    return;
  }
  // Warn five minutes before the end (or at half-time for short sessions).
  var lead = Math.min(300, Math.floor(lifetime / 2));
  var timer = null;

  function schedule() {
    if (timer) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(function () {
      box.hidden = false;
      var button = box.querySelector("[data-session-extend]");
      if (button) {
        button.focus();
      }
    }, (lifetime - lead) * 1000);
  }

  var extend = box.querySelector("[data-session-extend]");
  if (extend) {
    extend.addEventListener("click", function () {
      fetch(box.getAttribute("data-keepalive-url"), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (response.ok) {
          box.hidden = true;
          schedule();
        }
      });
    });
  }
  schedule();
})();
