/* Keeps a step from being sent when its chosen files together exceed what one
   request may carry (PORTAL_MAX_REQUEST_BYTES): the server would refuse such a
   request unread, with a page of its own, and the citizen would have to start
   the page again. Instead, each field whose file is over its own limit says so
   with the server's message, or else the last file field says that the files
   must be sent one after another; focus moves to the first such field.

   Progressive enhancement only: below that limit the server checks every file
   and reports each refusal at its field, with or without JavaScript. File names
   are shown as text, never as markup. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-portal-request-bytes]");
  if (!form || !window.FileList || !Array.from) {
    return;
  }
  var limit = parseInt(form.getAttribute("data-portal-request-bytes"), 10);
  // The page's other fields and the multipart framing travel in the same request.
  var margin = 64 * 1024;
  var language = document.documentElement.lang || "de";
  var megabyte = 1024 * 1024;

  /* A size as forms_catalog/fields/file.py format_size writes it ("10 MB", "2,5 MB"). */
  function size(bytes) {
    if (bytes >= megabyte) {
      var rounded = Math.round((bytes / megabyte) * 10) / 10;
      return new Intl.NumberFormat(language, { maximumFractionDigits: 1 }).format(rounded) + " MB";
    }
    return Math.max(1, Math.floor(bytes / 1024)) + " KB";
  }

  function clear() {
    Array.from(form.querySelectorAll(".portal-client-error")).forEach(function (message) {
      var input = document.getElementById(message.getAttribute("data-for"));
      if (input) {
        var described = (input.getAttribute("aria-describedby") || "")
          .split(" ")
          .filter(function (id) {
            return id && id !== message.id;
          });
        if (described.length) {
          input.setAttribute("aria-describedby", described.join(" "));
        } else {
          input.removeAttribute("aria-describedby");
        }
        if (input.hasAttribute("data-portal-client-invalid")) {
          input.removeAttribute("data-portal-client-invalid");
          input.removeAttribute("aria-invalid");
        }
      }
      message.parentNode.removeChild(message);
    });
  }

  function mark(input, text) {
    var message = document.createElement("p");
    message.className = "kern-error portal-client-error";
    message.id = input.id + "-size-error";
    message.setAttribute("data-for", input.id);
    var body = document.createElement("span");
    body.className = "kern-body";
    body.textContent = text;
    message.appendChild(body);
    input.parentNode.insertBefore(message, input);
    if (input.getAttribute("aria-invalid") !== "true") {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("data-portal-client-invalid", "true");
    }
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    described.push(message.id);
    input.setAttribute("aria-describedby", described.join(" "));
  }

  form.addEventListener("submit", function (event) {
    clear();
    var chosen = [];
    var total = 0;
    Array.from(form.querySelectorAll("input[type=file]")).forEach(function (input) {
      var files = Array.from(input.files || []);
      if (files.length) {
        chosen.push(input);
      }
      files.forEach(function (file) {
        total += file.size;
      });
    });
    if (!limit || total + margin <= limit) {
      return;
    }
    event.preventDefault();
    var flagged = chosen.filter(function (input) {
      var max = parseInt(input.getAttribute("data-portal-max-bytes"), 10);
      var template = input.getAttribute("data-portal-size-message") || "";
      var texts = Array.from(input.files)
        .filter(function (file) {
          return max && file.size > max;
        })
        .map(function (file) {
          return template.replace("{name}", file.name).replace("{size}", size(file.size));
        });
      if (texts.length) {
        mark(input, texts.join(" "));
      }
      return texts.length > 0;
    });
    if (!flagged.length) {
      var last = chosen[chosen.length - 1];
      mark(last, form.getAttribute("data-portal-request-message").replace("{size}", size(total)));
      flagged.push(last);
    }
    flagged[0].focus();
  });
})();
