// The patients' questionnaire: each 0–10 scale gets a slider that shows its number and keeps the
// number input (which works without this script, and for keyboard users) in step.
(function () {
  "use strict";
  document.querySelectorAll("[data-scale]").forEach(function (box) {
    var section = box.closest("section");
    var slider = box.querySelector("input[type=range]");
    var output = box.querySelector("output");
    var number = section.querySelector("input[type=number]");
    box.hidden = false;
    function show(value) { output.textContent = value === "" ? "not given yet" : Number(value).toFixed(1); }
    slider.addEventListener("input", function () {
      number.value = Number(slider.value).toFixed(1);
      show(slider.value);
    });
    number.addEventListener("input", function () {
      if (number.value !== "" && !isNaN(Number(number.value))) { slider.value = number.value; }
      show(number.value);
    });
    show(number.value);
  });
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
