// Survey pages, progressive enhancement only (the server decides what is shown and required).
// 1. A question whose block carries data-show-if (a condition on a question of the same page)
//    is hidden while the condition is false, as the engine's show-if logic would decide.
// 2. A constant-sum question's running total (<p class="survey-sum" data-total>, a live region)
//    follows the points typed; it is marked while it differs from the total asked.
// 3. The submit buttons are disabled for a moment after a submit, against double clicks
//    (the server is idempotent anyway).
(function () {
  "use strict";
  function values(form, id) {
    var out = [];
    form.querySelectorAll("[name='" + id + "']").forEach(function (el) {
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      if (el.value !== "") { out.push(el.value); }
    });
    return out;
  }
  function num(v) { var n = Number(v); return isNaN(n) ? v : n; }
  function compare(form, c) {
    var got = values(form, c.question);
    if (c.op === "answered") { return (got.length > 0) === (c.value === undefined ? true : c.value); }
    if (!got.length) { return false; }
    var target = c.value;
    return got.some(function (raw) {
      var v = num(raw);
      switch (c.op) {
        case "==": return String(v) === String(target);
        case "!=": return String(v) !== String(target);
        case "<": return v < target;
        case "<=": return v <= target;
        case ">": return v > target;
        case ">=": return v >= target;
        case "in": return (target || []).map(String).indexOf(String(v)) >= 0;
      }
      return true;
    });
  }
  function holds(form, c) {
    if (c.any) { return c.any.some(function (x) { return holds(form, x); }); }
    if (c.all) { return c.all.every(function (x) { return holds(form, x); }); }
    return compare(form, c);
  }
  function refresh(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (block) {
      var cond;
      try { cond = JSON.parse(block.getAttribute("data-show-if")); } catch (e) { return; }
      block.hidden = !holds(form, cond);
    });
  }
  function sums(form) {
    form.querySelectorAll(".survey-sum[data-total]").forEach(function (line) {
      var out = line.querySelector("output[data-sum-of]");
      if (!out) { return; }
      var prefix = out.getAttribute("data-sum-of") + ".", total = 0, any = false;
      form.querySelectorAll("input[name^='" + prefix + "']").forEach(function (el) {
        var n = Number(el.value);
        if (el.value !== "") { any = true; }
        if (el.value !== "" && isFinite(n)) { total += n; }
      });
      out.textContent = String(total);
      line.classList.toggle("survey-sum--off", any && total !== Number(line.getAttribute("data-total")));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.survey-form");
    if (!form) { return; }
    refresh(form);
    form.addEventListener("change", function () { refresh(form); });
    form.addEventListener("input", function (event) {
      if (event.target.closest && event.target.closest(".survey-constant-sum")) { sums(form); }
    });
    form.addEventListener("submit", function () {
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
      }, 4000);
    });
    var errors = document.getElementById("survey-errors");
    if (errors) { errors.focus(); }
  });
})();
