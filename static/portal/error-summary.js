/* Moves keyboard focus to the error summary after a failed submit, so screen
   reader and keyboard users start at the list of problems. Enhancement only:
   without JavaScript the summary is still first on the page (role="alert"). */
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();
