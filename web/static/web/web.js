/* Myositis registry — the little the pages need from scripts: live totals on the visit form,
 * moving focus to the error summary, and refreshing scores while the worker computes them.
 * The live totals are for display only; the server recomputes everything from what is saved
 * (scoring/instruments: mmt8_total, haq_di, chaq_di) and these functions mirror those rules. */
(function () {
  "use strict";

  var NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;

  /* Text as the server reads it (crf/web/visit_form.py parse_number): null when empty, NaN
   * when not a number, else the number (a decimal comma is accepted). */
  function parseNumber(text) {
    var t = (text || "").trim();
    if (!t) return null;
    if (!NUMBER.test(t)) return NaN;
    return Number(t.replace(",", "."));
  }

  function announce(message) {
    var live = document.getElementById("live-status");
    if (live) {
      live.textContent = "";
      window.setTimeout(function () { live.textContent = message; }, 50);
    }
  }

  /* --- MMT-8 (docs/scoring.md §1): a total exists only when every group (every side) is graded --- */
  function initMmt(form) {
    var grid = form.querySelector("[data-role=mmt-grid]");
    var out = form.querySelector("[data-role=mmt-total]");
    var sideBox = form.querySelector("[data-role=mmt-side-box]");
    if (!grid || !out) return;

    function checked(name, fallback) {
      var el = form.querySelector('input[name="' + name + '"]:checked');
      return el ? el.value : fallback;
    }

    function update() {
      var scale = checked("mmt8.scale", "bilateral");
      var side = checked("mmt8.side", "right");
      var unilateral = scale === "unilateral";
      if (sideBox) sideBox.hidden = !unilateral;
      var cells = [grid.querySelector("[data-role=grade-midline]")];
      ["right", "left"].forEach(function (s) {
        grid.querySelectorAll("[data-role=grade-" + s + "]").forEach(function (input) {
          // On the unilateral scale the other side is not graded: skip it in the tab order.
          var used = !unilateral || s === side;
          input.disabled = !used;
          if (used) cells.push(input);
        });
      });
      var total = 0, graded = 0, bad = false;
      cells.forEach(function (input) {
        var v = parseNumber(input.value);
        if (v === null) return;
        if (!Number.isInteger(v) || v < 0 || v > 10) { bad = true; return; }
        total += v; graded += 1;
      });
      var max = unilateral ? 80 : 150;
      out.classList.remove("incomplete", "invalid");
      if (bad) {
        out.textContent = "check the grades: each is a whole number from 0 to 10";
        out.classList.add("invalid");
      } else if (graded === cells.length) {
        out.textContent = total + " / " + max;
      } else {
        out.textContent = "— (" + graded + " of " + cells.length + " graded; a total needs every one)";
        out.classList.add("incomplete");
      }
    }
    form.addEventListener("input", function (e) {
      if (e.target.closest("[data-role=mmt-grid]")) update();
    });
    form.querySelectorAll("[data-role=mmt-scale],[data-role=mmt-side]").forEach(function (el) {
      el.addEventListener("change", update);
    });
    update();
  }

  /* --- enzymes: value / ULN ---------------------------------------------------------------- */
  function initLabs(form) {
    form.querySelectorAll("[data-role=lab-row]").forEach(function (row) {
      var value = row.querySelector("[data-role=lab-value]");
      var uln = row.querySelector("[data-role=lab-uln]");
      var out = row.querySelector("[data-role=lab-ratio]");
      function update() {
        var v = parseNumber(value.value), u = parseNumber(uln.value);
        out.textContent = (v > 0 && u > 0) ? (v / u).toFixed(2) + " ×" : "";
      }
      value.addEventListener("input", update);
      uln.addEventListener("input", update);
      update();
    });
  }

  /* --- HAQ-DI / CHAQ (docs/scoring.md §5) ---------------------------------------------------------
   * Category score = highest answered item; an aid/device or help raises an answered category
   * to at least 2; the index is the mean over answered categories, only with ≥ 6 answered.
   * "na" (CHAQ) is excluded. The sum is a whole number and the count 6, 7 or 8, so the index is
   * k/6, k/7 or k/8: shown to 3 decimals it never falls on a rounding tie, and the server's
   * exact fraction rounds to the same text. */
  function initHaq(form) {
    var box = form.querySelector("[data-role=haq]");
    var out = form.querySelector("[data-role=haq-total]");
    if (!box || !out) return;
    function update() {
      var total = 0, answered = 0, bad = false;
      box.querySelectorAll("[data-role=haq-category]").forEach(function (cat) {
        var highest = null;
        cat.querySelectorAll("[data-role=haq-item]").forEach(function (item) {
          var raw = item.value;
          if (raw === "" || raw === "na") return;
          var v = Number(raw);
          if (!Number.isInteger(v) || v < 0 || v > 3) { bad = true; return; }
          if (highest === null || v > highest) highest = v;
        });
        if (highest === null) return;
        var raised = cat.querySelector("[data-role=haq-aid]").checked ||
                     cat.querySelector("[data-role=haq-help]").checked;
        if (raised && highest < 2) highest = 2;
        total += highest; answered += 1;
      });
      out.classList.remove("incomplete", "invalid");
      if (bad) {
        out.textContent = "check the answers";
        out.classList.add("invalid");
      } else if (answered >= 6) {
        out.textContent = (Math.round(total * 1000 / answered) / 1000).toFixed(3) +
          " (" + answered + " of 8 categories)";
      } else {
        out.textContent = "— (" + answered + " of 8 categories answered; needs at least 6)";
        out.classList.add("incomplete");
      }
    }
    box.addEventListener("change", update);
    box.addEventListener("input", update);
    update();
  }

  /* --- scores: poll while the worker computes ---------------------------------------------- */
  function initScores() {
    var started = Date.now();
    var delay = 1500;
    function poll() {
      var box = document.getElementById("scores");
      if (!box || Number(box.dataset.pending || 0) === 0) return;
      if (Date.now() - started > 15 * 60 * 1000) return;  // a worker that long away: stop asking
      window.setTimeout(function () {
        fetch(box.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
          .then(function (data) {
            var holder = document.createElement("div");
            holder.innerHTML = data.html;
            var fresh = holder.firstElementChild;
            if (fresh) {
              box.replaceWith(fresh);
              if (data.pending === 0) announce("Scores updated.");
            }
            delay = 1500;
            poll();
          })
          .catch(function () { delay = Math.min(delay * 2, 15000); poll(); });
      }, delay);
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    var form = document.getElementById("visit-form");
    if (form) { initMmt(form); initLabs(form); initHaq(form); }
    initScores();
  });
})();
