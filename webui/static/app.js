/* kb · customer stories: progressive enhancement only. Every page works without this file.
 *
 * - Live filters: changing a control marked data-live in a form marked data-live-form
 *   fetches the same URL with partial=1, swaps the results region, and pushes the URL;
 *   the back button restores the previous results. Submitting leaves empty fields out of the URL.
 * - Story page: "Copy link" and "Print" buttons.
 */
(function () {
  "use strict";

  var MOBILE = window.matchMedia("(max-width: 52em)");

  function hideNoJsControls(root) {
    root.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });
  }

  function tuneFilterPanel(root, wasOpen) {
    var panel = root.querySelector("[data-filter-panel]");
    if (!panel) { return; }
    if (typeof wasOpen === "boolean") {
      panel.open = wasOpen;
    } else if (MOBILE.matches && !panel.querySelector("input:checked")) {
      panel.open = false; // on a phone the results come first; filters are one tap away
    }
  }

  function queryOf(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && value.trim() !== "") { params.append(name, value); }
    });
    var text = params.toString();
    return new URL(form.action, window.location.href).pathname + (text ? "?" + text : "");
  }

  function syncFields(form, region, params) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || region.contains(el) || el.type === "submit") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = params.getAll(el.name).indexOf(el.value) !== -1;
      } else {
        el.value = params.get(el.name) || (el.tagName === "SELECT" && el.options.length ? el.options[0].value : "");
      }
    });
  }

  function liveForm(form) {
    var region = document.getElementById(form.dataset.region);
    var status = document.getElementById("live-status");
    if (!region) { return; }
    var shown = window.location.pathname + window.location.search;
    var pending = null;
    history.replaceState({ kb: true }, "");

    function swap(html, focusKey) {
      var panel = region.querySelector("[data-filter-panel]");
      var wasOpen = panel ? panel.open : undefined;
      region.innerHTML = html;
      hideNoJsControls(region);
      tuneFilterPanel(region, wasOpen);
      var layout = region.firstElementChild;
      if (layout && layout.dataset.title) { document.title = layout.dataset.title; }
      if (status && layout) { status.textContent = layout.dataset.summary || ""; }
      if (focusKey) {
        var again = Array.prototype.find.call(region.querySelectorAll("input, select"), function (el) {
          return el.name === focusKey.name && el.value === focusKey.value;
        });
        if (again) { again.focus(); }
      }
    }

    function load(url, push, focusKey) {
      if (pending) { pending.abort(); }
      pending = new AbortController();
      region.setAttribute("aria-busy", "true");
      var partial = url + (url.indexOf("?") === -1 ? "?" : "&") + "partial=1";
      fetch(partial, { signal: pending.signal, headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.text();
        })
        .then(function (html) {
          if (push) { history.pushState({ kb: true }, "", url); }
          shown = url;
          swap(html, focusKey);
          region.removeAttribute("aria-busy");
        })
        .catch(function (error) {
          if (error.name === "AbortError") { return; }
          window.location.assign(url); // let the server render the page (or its error) in full
        });
    }

    document.addEventListener("change", function (event) {
      var el = event.target;
      if (el.form !== form || !el.hasAttribute("data-live")) { return; }
      load(queryOf(form), true, region.contains(el) ? { name: el.name, value: el.value } : null);
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.location.assign(queryOf(form)); // a full page load, without the empty fields
    });

    window.addEventListener("popstate", function () {
      var here = window.location.pathname + window.location.search;
      if (here === shown) { return; } // only the #fragment changed
      syncFields(form, region, new URLSearchParams(window.location.search));
      load(here, false, null);
    });
  }

  function storyTools() {
    var copy = document.querySelector("[data-action=copy]");
    var print = document.querySelector("[data-action=print]");
    var status = document.querySelector(".copy-status");
    if (copy) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        var input = document.getElementById(copy.dataset.target);
        var done = function () { if (status) { status.textContent = "Link copied."; } };
        var fallback = function () {
          input.select();
          if (status) { status.textContent = "Press Ctrl+C (\u2318C on a Mac) to copy the selected link."; }
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(done, fallback);
        } else {
          fallback();
        }
      });
    }
    if (print) {
      print.hidden = false;
      print.addEventListener("click", function () { window.print(); });
    }
  }

  function start() {
    document.documentElement.classList.add("js");
    hideNoJsControls(document);
    tuneFilterPanel(document);
    document.querySelectorAll("form[data-live-form]").forEach(liveForm);
    storyTools();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
