/* kb · the story editor: live preview and the search index status. Progressive enhancement:
 * without this file the editor's Preview button and the server-rendered status still work.
 *
 * - Live preview: typing in the editor form posts it (with its CSRF token) to the preview
 *   URL after a short pause, and shows the sanitized HTML the server answers.
 * - Index status: while the status says the index is being updated, poll its JSON URL.
 */
(function () {
  "use strict";

  var PREVIEW_DELAY = 400;
  var POLL_EVERY = 1000;

  function livePreview(form) {
    var target = document.getElementById(form.dataset.previewTarget);
    if (!target) { return; }
    var timer = null;
    var pending = null;

    function refresh() {
      if (pending) { pending.abort(); }
      pending = new AbortController();
      target.setAttribute("aria-busy", "true");
      fetch(form.dataset.previewUrl, {
        method: "POST", body: new FormData(form), credentials: "same-origin", signal: pending.signal,
        headers: { Accept: "text/html" }
      })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.text();
        })
        .then(function (html) {
          target.innerHTML = html; // sanitized by the server; the CSP forbids inline script anyway
          target.removeAttribute("aria-busy");
        })
        .catch(function (error) {
          if (error.name === "AbortError") { return; }
          target.removeAttribute("aria-busy");
          target.textContent = "The preview could not be updated (" + error.message + "). Saving still works.";
        });
    }

    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, PREVIEW_DELAY);
    });
    form.addEventListener("change", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, PREVIEW_DELAY);
    });
    refresh();
  }

  function pollStatus(el) {
    function show(status) {
      el.textContent = status.message;
      el.dataset.state = status.state;
      el.classList.toggle("is-busy", !!status.busy);
      el.classList.toggle("is-failed", status.state === "failed");
    }

    function poll() {
      fetch(el.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (status) {
          show(status);
          if (status.busy) { setTimeout(poll, POLL_EVERY); }
        })
        .catch(function () { setTimeout(poll, POLL_EVERY * 5); });
    }

    if (el.classList.contains("is-busy")) { setTimeout(poll, POLL_EVERY); }
    // a reindex asked for elsewhere: look again when the person comes back to the tab
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { poll(); }
    });
  }

  function start() {
    document.querySelectorAll("form[data-preview-url]").forEach(livePreview);
    var status = document.getElementById("index-status");
    if (status && status.dataset.statusUrl) { pollStatus(status); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
