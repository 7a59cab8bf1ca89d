// Progressive enhancement of templates/macros/job_state.html: poll the job's state and update the
// box in place; when the job ends, offer the result (the page itself is not reloaded, so nothing
// being typed on it is lost). Without JavaScript the box links to a page that refreshes itself.
(function () {
  if (window.perceptionJobs) { return; }
  window.perceptionJobs = true;
  function watch(box) {
    var url = box.getAttribute("data-job-url");
    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return; }
          box.className = "job-state job-" + s.status;
          box.querySelector(".job-status").textContent = s.status_label;
          var step = box.querySelector(".job-step");
          var bar = box.querySelector("progress");
          if (s.status === "running") {
            step.textContent = (s.step_label || "") + (s.total ? " · " + s.done + "/" + s.total : "");
            bar.max = s.total || 1; bar.value = s.total ? s.done : 0; bar.hidden = false;
          } else { step.textContent = ""; bar.hidden = true; }
          if (s.status === "queued" || s.status === "running") { window.setTimeout(tick, 2000); return; }
          var follow = box.querySelector(".job-follow");
          if (follow) { follow.hidden = true; }
          box.querySelector(".job-result").hidden = false;
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, 1500);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".job-state[data-active='true']").forEach(watch);
  });
})();
