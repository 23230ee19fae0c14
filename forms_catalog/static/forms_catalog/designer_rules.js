/* Progressive enhancement of the designer's condition pickers: when a row's field
   changes, its comparisons and its value input follow at once (without JavaScript,
   "Auswahl übernehmen" does the same on the server). The fields' kinds, comparisons
   and options come from the page as JSON data (never executed); nothing is sent. */
(function () {
  "use strict";

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function valueInput(cell, field, base, labels) {
    var id = "id_" + base + "-value";
    var name = base + "-value";
    cell.replaceChildren();
    if (field.kind === "file") {
      cell.appendChild(element("p", { class: "portal-rules__hint" }, labels.file));
      return;
    }
    cell.appendChild(element("label", { for: id }, labels.value));
    if (field.kind === "yesno" || field.kind === "choice" || field.kind === "multichoice") {
      var select = element("select", { id: id, name: name });
      var choices = field.kind === "yesno" ? [["yes", labels.yes], ["no", labels.no]] : field.options;
      choices.forEach(function (choice) {
        select.appendChild(new Option(choice[1], choice[0]));
      });
      cell.appendChild(select);
      if (field.kind === "choice") {
        var group = element("fieldset", { class: "portal-rules__values" });
        group.appendChild(element("legend", {}, labels.values));
        field.options.forEach(function (choice) {
          var label = element("label");
          label.appendChild(element("input", { type: "checkbox", name: base + "-values", value: choice[0] }));
          label.appendChild(document.createTextNode(" " + choice[1]));
          group.appendChild(label);
        });
        cell.appendChild(group);
      }
      return;
    }
    var hint = base + "-value-hint";
    var input = element("input", { id: id, name: name, "aria-describedby": hint });
    input.type = field.kind === "date" ? "date" : "text";
    if (field.kind === "number") {
      input.setAttribute("inputmode", "decimal");
      input.size = 12;
    } else if (field.kind !== "date") {
      input.size = 30;
    }
    cell.appendChild(input);
    cell.appendChild(element("p", { class: "portal-rules__hint", id: hint }, labels.hints[field.kind] || labels.hints.text));
  }

  document.querySelectorAll("fieldset[data-picker-fields]").forEach(function (picker) {
    var source = document.getElementById(picker.getAttribute("data-picker-fields"));
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    picker.addEventListener("change", function (event) {
      var select = event.target;
      if (!select.matches || !select.matches("select[data-row-field]")) {
        return;
      }
      var field = data.fields[select.value];
      var row = select.closest(".portal-rules__row");
      if (!field || !row) {
        return;
      }
      var op = row.querySelector("select[data-row-op]");
      var current = op.value;
      op.replaceChildren();
      field.ops.forEach(function (pair) {
        op.appendChild(new Option(pair[1], pair[0], false, pair[0] === current));
      });
      var base = select.name.replace(/-field$/, "");
      row.querySelectorAll(".portal-rules__error").forEach(function (error) {
        error.remove();
      });
      row.querySelectorAll("[aria-invalid]").forEach(function (input) {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      });
      valueInput(row.querySelector("[data-row-value]"), field, base, data.labels);
    });
  });
})();
