/* The summary's Print button (a script, as the page's policy allows no inline handlers). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-role=print]");
    if (button) button.addEventListener("click", function () { window.print(); });
  });
})();
