/* The report filters' compact multi-selects (web/templates/reports/_multi.html): keep each
   summary listing what is ticked, and close an open list on Escape, a click elsewhere or when
   the keyboard focus leaves it (an open list must not hide the fields and the button below).
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
    function closeOthers(event) {
      all.forEach(function (details) {
        if (details.open && !details.contains(event.target)) { details.open = false; }
      });
    }
    document.addEventListener("click", closeOthers);
    document.addEventListener("focusin", closeOthers);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
