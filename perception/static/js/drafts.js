// Drafts never lost on the phone pages (weekly report, callback, follow-up task); issue 17.
// A form marked data-autosave="KEY" keeps what is typed in localStorage while it is typed, and
// restores it on load with a visible notice, so a reload, a failed submit (session expired, no
// network) or a closed tab loses nothing. data-autosave-version names the stored state the page
// shows: a draft made on another state (the report was saved or submitted since) is dropped.
// A submit notes the draft in the tab's sessionStorage; when the page that answers the submit
// shows a success message, the draft is cleared (a failed submit keeps it). data-autosave-server="1" (a report that is still a draft) also saves to the server,
// with the form's own "save draft" action, when the phone puts the page away (app or tab switched).
// Progressive enhancement only: without JavaScript the forms work as before. No inline script:
// the CSP allows only files of this site.
(function () {
  "use strict";
  var PREFIX = "perception-draft:";
  var SKIP_TYPES = { hidden: 1, file: 1, submit: 1, button: 1, reset: 1, password: 1, image: 1 };

  function storage() {
    try {
      var probe = PREFIX + "probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null;  // private mode or storage disabled: the forms still work, without drafts
    }
  }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !SKIP_TYPES[el.type] && !el.disabled;
    });
  }

  function collect(form) {
    var values = {};
    fields(form).forEach(function (el) {
      if (el.type === "checkbox") {
        values[el.name] = values[el.name] || [];
        if (el.checked) { values[el.name].push(el.value); }
      } else if (el.type === "radio") {
        if (el.checked) { values[el.name] = el.value; }
        else if (!(el.name in values)) { values[el.name] = ""; }
      } else if (el.multiple) {
        values[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }

  function named(form, name) {
    return Array.prototype.filter.call(form.elements, function (el) { return el.name === name; });
  }

  // A report row that exists only in the draft (added with "Add a row" before a reload): clone the
  // kind's last row with the next index, empty, so its values have somewhere to go.
  function addRowFor(form, name) {
    var match = /^([a-z_]+)-(\d+)-/.exec(name);
    if (!match) { return false; }
    var list = form.querySelector('[data-rows="' + match[1] + '"]');
    var rows = list ? list.querySelectorAll("[data-row]") : [];
    if (!rows.length || rows.length > 200) { return false; }
    var last = rows[rows.length - 1];
    var index = rows.length;
    var copy = last.cloneNode(true);
    var pattern = new RegExp("^" + match[1] + "-\\d+-");
    copy.querySelectorAll("[name], [id], [for]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(pattern, match[1] + "-" + index + "-")); }
      });
      if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      else if (el.type === "checkbox" || el.type === "radio") { el.checked = false; }
      else if ("value" in el && el.tagName !== "BUTTON") { el.value = ""; }
    });
    copy.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    var number = copy.querySelector("[data-row-number]");
    if (number) { number.textContent = String(index + 1); }
    last.parentNode.insertBefore(copy, last.nextSibling);
    return true;
  }

  function restore(form, values) {
    var changed = false;
    Object.keys(values).forEach(function (name) {
      var els = named(form, name);
      var guard = 0;
      while (!els.length && guard < 200 && addRowFor(form, name)) {
        els = named(form, name);
        guard += 1;
      }
      var value = values[name];
      els.forEach(function (el) {
        var before;
        if (el.type === "checkbox") {
          before = el.checked;
          el.checked = Array.isArray(value) && value.indexOf(el.value) >= 0;
          changed = changed || before !== el.checked;
        } else if (el.type === "radio") {
          before = el.checked;
          el.checked = el.value === value;
          changed = changed || before !== el.checked;
        } else if (el.multiple && Array.isArray(value)) {
          Array.prototype.forEach.call(el.options, function (o) {
            before = o.selected;
            o.selected = value.indexOf(o.value) >= 0;
            changed = changed || before !== o.selected;
          });
        } else if (typeof value === "string" && el.value !== value) {
          el.value = value;
          changed = true;
        }
      });
    });
    return changed;
  }

  function setUp(form, store) {
    var key = PREFIX + form.getAttribute("data-autosave");
    var version = form.getAttribute("data-autosave-version") || "";
    var notice = document.querySelector('[data-draft-notice="' + form.getAttribute("data-autosave") + '"]');
    var dirty = false;  // the form holds what the server does not have
    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    if (saved && saved.version === version && saved.values) {
      if (restore(form, saved.values) && notice) {
        dirty = true;
        notice.hidden = false;
        var when = notice.querySelector("[data-draft-time]");
        if (when && saved.at) { when.textContent = new Date(saved.at).toLocaleString(); }
        form.dispatchEvent(new Event("input", { bubbles: true }));  // dependent fields follow
      }
    } else if (saved) {
      store.removeItem(key);  // made on a state the page no longer shows
    }
    function save(sent) {
      var entry = { version: version, values: collect(form), at: Date.now(), sent: !!sent };
      try { store.setItem(key, JSON.stringify(entry)); } catch (e) { /* storage full: keep going */ }
    }
    function later() {  // at once: a reload right after a keystroke keeps it (a few KB to write)
      dirty = true;
      save(false);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function () {
      save(true);
      dirty = false;
      try { window.sessionStorage.setItem(PREFIX + "sent", key); } catch (e) { /* no session storage */ }
    });
    if (notice) {
      var discard = notice.querySelector("[data-draft-discard]");
      if (discard) {
        discard.addEventListener("click", function () {
          store.removeItem(key);
          window.location.reload();
        });
      }
    }
    // The phone puts the page away (another app, the tab switched): store now, and save a report
    // that is still a draft to the server with its own "save draft" action. Not while the page is
    // being left (reload, link, closing): that request could race the next page, and the local
    // draft already covers it.
    var unloading = false;
    window.addEventListener("beforeunload", function () { unloading = true; });
    window.addEventListener("pageshow", function () { unloading = false; });
    function putAway() {
      if (!dirty || unloading) { return; }
      save(false);
      if (form.getAttribute("data-autosave-server") !== "1" || !window.fetch || !window.FormData) { return; }
      var body = new FormData(form);
      body.set("action", "save");
      dirty = false;
      window.fetch(form.getAttribute("action") || window.location.href, {
        method: "POST", body: body, credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok || !response.redirected) { dirty = true; return null; }
        return response.text();
      }).then(function (html) {
        var found = html && /data-autosave-version="([^"]*)"/.exec(html);
        if (found) {  // stored on the server: the draft now belongs to the new state
          version = found[1];
          form.setAttribute("data-autosave-version", version);
          save(false);
          form.dispatchEvent(new CustomEvent("draft-saved", { bubbles: true }));
        }
      }).catch(function () { dirty = true; });  // offline: the local draft stays
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { putAway(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    if (!store) { return; }
    // The page this tab shows after a submit: a success message means the draft was stored.
    var sent = null;
    try {
      sent = window.sessionStorage.getItem(PREFIX + "sent");
      window.sessionStorage.removeItem(PREFIX + "sent");
    } catch (e) { sent = null; }
    if (sent && document.querySelector(".flash-success")) { store.removeItem(sent); }
    document.querySelectorAll("form[data-autosave]").forEach(function (form) { setUp(form, store); });
  });
})();
