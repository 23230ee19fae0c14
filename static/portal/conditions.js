/* Same-page conditions: a question that applies only after a certain answer on
   the same page is hidden (the `hidden` attribute) until that answer is given,
   and appears or disappears as soon as the answer changes.

   Progressive enhancement only. Without JavaScript every such question is shown
   with the hint "Nur ausfüllen, wenn …", and the server decides in any case:
   what its condition hides is neither checked nor stored. The condition comes
   from the server (data-portal-condition, see forms_catalog/client_conditions.py)
   and is evaluated here exactly like forms_catalog/expressions.py evaluates it
   (three-valued: an empty answer makes a comparison unknown, and only a true
   condition shows the question). A question that arrives with an error message
   is never hidden on arrival, so no message is ever out of sight. */
(function () {
  "use strict";
  var containers = document.querySelectorAll("[data-portal-condition]");
  if (!containers.length || !window.JSON || !Array.prototype.forEach) {
    return;
  }
  var GROUPED = { ".": /^[0-9]{1,3}(\.[0-9]{3})+$/, ",": /^[0-9]{1,3}(,[0-9]{3})+$/ };

  /* A number as forms_catalog/fields/number.py reads it; null if none or ambiguous. */
  function parseNumber(raw, money, language) {
    var text = raw.trim().slice(0, 64).replace(/[\u00a0\u202f ]/g, "");
    if (money) {
      text = text.replace(/€/g, "").replace(/EUR/g, "");
    }
    var sign = "";
    if (text.charAt(0) === "-") {
      sign = "-";
      text = text.slice(1);
    }
    var decimalMark = language === "en" ? "." : ",";
    var groupMark = decimalMark === "." ? "," : ".";
    if (text.indexOf(",") >= 0 && text.indexOf(".") >= 0) {
      var later = text.lastIndexOf(",") > text.lastIndexOf(".") ? "," : ".";
      var earlier = later === "," ? "." : ",";
      var at = text.lastIndexOf(later);
      var whole = text.slice(0, at);
      var fraction = text.slice(at + 1);
      if (!GROUPED[earlier].test(whole) || !/^[0-9]+$/.test(fraction)) {
        return null;
      }
      text = whole.split(earlier).join("") + "." + fraction;
    } else if (text.indexOf(groupMark) >= 0) {
      if (GROUPED[groupMark].test(text)) {
        text = text.split(groupMark).join("");
      } else if (/^[0-9]{4,}[.,][0-9]+$/.test(text)) {
        text = text.replace(groupMark, ".");
      } else {
        return null;
      }
    } else if (text.indexOf(decimalMark) >= 0) {
      text = text.replace(decimalMark, ".");
    }
    if (!/^[0-9]{1,15}(\.[0-9]+)?$/.test(text)) {
      return null;
    }
    return parseFloat(sign + text);
  }

  function inputsNamed(name) {
    return Array.prototype.slice.call(document.getElementsByName(name));
  }

  /* The typed answer of a question on this page, as the server would see it. */
  function answer(input, language) {
    var elements = inputsNamed(input.name).filter(function (element) {
      // A question hidden by its own condition counts as unanswered, as on the server.
      return !element.closest("[hidden]");
    });
    if (!elements.length) {
      return null;
    }
    var first = elements[0];
    var texts;
    if (first.type === "radio" || first.type === "checkbox") {
      texts = elements.filter(function (element) {
        return element.checked;
      }).map(function (element) {
        return element.value;
      });
    } else {
      texts = [first.value];
    }
    texts = texts.map(function (text) {
      return text.trim();
    }).filter(function (text) {
      return text !== "";
    });
    if (!texts.length) {
      return null;
    }
    var text = texts[texts.length - 1];
    switch (input.kind) {
      case "yesno":
        return text === "yes" ? true : text === "no" ? false : null;
      case "list":
        return texts;
      case "number":
        return parseNumber(text, false, language);
      case "money":
        return parseNumber(text, true, language);
      default:
        return text;
    }
  }

  function isEmpty(value) {
    return value === null || value === "" || (Array.isArray(value) && !value.length);
  }

  function truthy(value) {
    if (value === null || value === false) {
      return false;
    }
    if (typeof value === "number") {
      return value !== 0;
    }
    if (typeof value === "string" || Array.isArray(value)) {
      return value.length > 0;
    }
    return Boolean(value);
  }

  function equal(a, b) {
    if (Array.isArray(a) || Array.isArray(b)) {
      return JSON.stringify(a) === JSON.stringify(b);
    }
    return a === b;
  }

  function compare(op, a, b) {
    if (op === "eq") {
      return equal(a, b);
    }
    if (op === "ne") {
      return !equal(a, b);
    }
    if (a === null || b === null || typeof a === "boolean" || typeof b === "boolean") {
      return null;
    }
    if (typeof a !== typeof b || Array.isArray(a) || Array.isArray(b)) {
      return null;
    }
    if (op === "lt") {
      return a < b;
    }
    if (op === "le") {
      return a <= b;
    }
    if (op === "gt") {
      return a > b;
    }
    return a >= b;
  }

  function evaluate(expr, scope) {
    if (expr === null || typeof expr !== "object") {
      return expr === undefined ? null : expr;
    }
    if (Array.isArray(expr)) {
      return expr.map(function (item) {
        return evaluate(item, scope);
      });
    }
    var op = Object.keys(expr)[0];
    var arg = expr[op];
    switch (op) {
      case "field":
        return scope(arg);
      case "filled":
        return !isEmpty(scope(arg));
      case "not": {
        var value = evaluate(arg, scope);
        return value === null ? null : !truthy(value);
      }
      case "and":
      case "or": {
        var results = arg.map(function (item) {
          return evaluate(item, scope);
        });
        var decided = results.filter(function (r) {
          return r !== null;
        }).map(truthy);
        if (op === "and") {
          if (decided.indexOf(false) >= 0) {
            return false;
          }
          return decided.length < results.length ? null : true;
        }
        if (decided.indexOf(true) >= 0) {
          return true;
        }
        return decided.length < results.length ? null : false;
      }
      case "in": {
        var item = evaluate(arg[0], scope);
        if (item === null) {
          return null;
        }
        return arg[1].some(function (option) {
          return equal(option, item);
        });
      }
      case "contains": {
        var container = evaluate(arg[0], scope);
        return Array.isArray(container) ? container.indexOf(arg[1]) >= 0 : false;
      }
      default:
        return compare(op, evaluate(arg[0], scope), evaluate(arg[1], scope));
    }
  }

  var conditions = [];
  var next = 0;
  Array.prototype.forEach.call(containers, function (container) {
    var condition;
    try {
      condition = JSON.parse(container.getAttribute("data-portal-condition"));
    } catch (error) {
      return; // left shown with its hint, as without JavaScript
    }
    if (!container.id) {
      next += 1;
      container.id = "portal-condition-" + next;
    }
    conditions.push({ container: container, condition: condition });
    Object.keys(condition.inputs).forEach(function (key) {
      inputsNamed(condition.inputs[key].name).forEach(function (element) {
        var controls = (element.getAttribute("aria-controls") || "").split(" ").filter(Boolean);
        if (controls.indexOf(container.id) < 0) {
          controls.push(container.id);
          element.setAttribute("aria-controls", controls.join(" "));
        }
      });
    });
    // The question now appears only when it applies: the note for pages without
    // JavaScript would only confuse.
    Array.prototype.forEach.call(
      container.querySelectorAll(":scope > .portal-conditional-hint"),
      function (hint) {
        hint.hidden = true;
      }
    );
  });

  function holds(condition) {
    return evaluate(condition.expr, function (key) {
      if (Object.prototype.hasOwnProperty.call(condition.inputs, key)) {
        return answer(condition.inputs[key], condition.language);
      }
      var known = condition.values[key];
      return known === undefined ? null : known;
    }) === true;
  }

  function hasError(container) {
    return Boolean(
      container.matches(".kern-form-input--error, .kern-fieldset--error") ||
        container.querySelector("[aria-invalid='true'], .kern-error")
    );
  }

  function update(trigger, arriving) {
    // Document order, so a question that depends on a hidden one is hidden too.
    conditions.forEach(function (entry) {
      var show = holds(entry.condition) || (arriving && hasError(entry.container));
      if (entry.container.hidden === !show) {
        return;
      }
      if (!show && trigger && entry.container.contains(document.activeElement)) {
        trigger.focus();
      }
      entry.container.hidden = !show;
    });
  }

  update(null, true);
  document.addEventListener("change", function (event) {
    update(event.target, false);
  });
  document.addEventListener("input", function (event) {
    update(event.target, false);
  });
})();
