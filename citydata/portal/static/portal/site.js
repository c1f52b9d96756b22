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
})();
