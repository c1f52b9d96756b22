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
})();
