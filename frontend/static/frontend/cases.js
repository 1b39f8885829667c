// The case import: the CSV goes to the API as text/csv, with an upload progress bar and the
// API's answer (how many were imported, or which rows were refused) shown below.
(function () {
  "use strict";
  const form = document.getElementById("case-import");
  if (!form) return;
  const progress = document.getElementById("import-progress");
  const status = document.getElementById("import-status");
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];

  function say(text, ok) {
    status.textContent = "";
    const p = document.createElement("p");
    p.className = ok ? "ok-text" : "error";
    p.textContent = text;
    status.appendChild(p);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) { say("Choose a CSV file first.", false); return; }
    const request = new XMLHttpRequest();
    request.open("POST", form.dataset.url);
    request.setRequestHeader("Content-Type", "text/csv");
    request.setRequestHeader("X-CSRFToken", csrf);
    progress.hidden = false;
    progress.value = 0;
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    request.addEventListener("load", function () {
      progress.value = 100;
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (e) { body = {}; }
      if (request.status === 201) {
        say("Imported " + body.imported + " cases; the pool holds " + body.total + ".", true);
        window.setTimeout(function () { window.location.reload(); }, 800);
      } else {
        const errors = (body.errors || []).slice(0, 10).map(function (e) {
          return (e.field ? e.field + ": " : "") + e.message;
        });
        say("Nothing was imported. " + errors.join(" · "), false);
      }
    });
    request.addEventListener("error", function () { say("The upload failed.", false); });
    request.send(file);
  });
})();
