/* MOLA pages: a few small behaviours on top of htmx. Everything works without them. */
(function () {
  "use strict";

  function onClick(selector, handler) {
    document.addEventListener("click", function (event) {
      var target = event.target.closest(selector);
      if (target) handler(target, event);
    });
  }

  // "Did you mean …?": replace the misspelt name in the editor and check again.
  onClick("[data-fix-with]", function (button) {
    var field = document.getElementById(button.dataset.fixTarget);
    if (!field) return;
    var start = parseInt(button.dataset.fixPosition, 10);
    var length = parseInt(button.dataset.fixLength, 10) || 0;
    var text = field.value;
    var replacement = button.dataset.fixWith;
    field.value = text.slice(0, start) + replacement + text.slice(start + length);
    field.focus();
    var caret = start + replacement.length;
    field.setSelectionRange(caret, caret);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // Examples form: copy the feature values of the row above ("model it right" → "show it wrong").
  onClick(".copy-row", function (button) {
    var from = button.dataset.from, to = button.dataset.to;
    var form = button.closest("form");
    form.querySelectorAll("[name^='" + from + "']").forEach(function (source) {
      var suffix = source.name.slice(from.length);
      if (["label", "note", "refutes", "evaluation"].indexOf(suffix) !== -1) return;
      var target = form.querySelector("[name='" + to + suffix + "']");
      if (!target) return;
      if (source.type === "checkbox") target.checked = source.checked;
      else target.value = source.value;
    });
  });

  // API keys: copy the new key.
  onClick("[data-copy]", function (button) {
    var field = document.getElementById(button.dataset.copy);
    field.select();
    if (navigator.clipboard) navigator.clipboard.writeText(field.value);
    button.textContent = "Copied";
  });

  // Destructive buttons ask first.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
