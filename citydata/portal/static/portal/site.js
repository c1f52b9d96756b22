// Small enhancements only: every page works without this file.
(function () {
  // On phones, fold the catalog's facet groups that have no active filter so results come first.
  if (window.matchMedia && window.matchMedia("(max-width: 800px)").matches) {
    document.querySelectorAll(".facets details[open]").forEach(function (group) {
      if (!group.querySelector("a.on")) {
        group.removeAttribute("open");
      }
    });
  }
  // Forms that destroy something ask first; the server still checks everything.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  // A running ingest: follow its progress, then show the result.
  var poll = document.querySelector("[data-poll]");
  if (poll && window.fetch) {
    var bar = poll.querySelector("[data-bar]");
    var timer = window.setInterval(function () {
      window.fetch(poll.getAttribute("data-poll"), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          poll.querySelector("[data-status]").textContent = state.status_label;
          poll.querySelector("[data-phase]").textContent = state.phase;
          if (bar) {
            bar.className = "bar w" + state.progress;
            bar.parentNode.setAttribute("aria-valuenow", state.progress);
          }
          if (state.done) {
            window.clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () { window.clearInterval(timer); });
    }, 1500);
  }
})();
