/* The report filters' compact multi-selects (web/templates/reports/_multi.html): keep each
   summary listing what is ticked, and close an open list on Escape or a click elsewhere.
   Without this script the lists still work: the summary then shows what was applied. */
(function () {
  "use strict";
  function update(details) {
    var chosen = details.querySelector(".chosen");
    if (!chosen) { return; }
    var labels = [];
    details.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      if (box.checked) { labels.push(box.getAttribute("data-label")); }
    });
    chosen.textContent = labels.length ? labels.join(", ") : details.getAttribute("data-nothing");
  }
  function init() {
    var all = document.querySelectorAll("details.multi");
    all.forEach(function (details) {
      details.addEventListener("change", function () { update(details); });
      details.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && details.open) {
          details.open = false;
          details.querySelector("summary").focus();
        }
      });
    });
    document.addEventListener("click", function (event) {
      all.forEach(function (details) {
        if (details.open && !details.contains(event.target)) { details.open = false; }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
