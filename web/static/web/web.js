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
      // The grades' range and the totals' maxima are the server's (data-min/-max, see initRanges).
      var low = Number(cells[0].dataset.min), high = Number(cells[0].dataset.max);
      var total = 0, graded = 0, bad = false;
      cells.forEach(function (input) {
        var v = parseNumber(input.value);
        if (v === null) return;
        if (!Number.isInteger(v) || v < low || v > high) { bad = true; return; }
        total += v; graded += 1;
      });
      var totalInput = form.querySelector("input[data-max-bilateral]");
      var max = unilateral ? totalInput.dataset.maxUnilateral : totalInput.dataset.maxBilateral;
      out.classList.remove("incomplete", "invalid");
      if (bad) {
        out.textContent = "check the grades: each is a whole number from " + low + " to " + high;
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

  /* --- ranges: warn on a field as soon as its value is out of range -------------------------
   * The limits come from the server (data-min, data-max, data-step, data-unit: the ranges of
   * crf/documents.py, which the server checks on save); the words are the server's. */
  function decimalsOf(text) {
    var t = text.trim().replace(",", ".");
    var dot = t.indexOf(".");
    return dot < 0 ? 0 : t.slice(dot + 1).replace(/0+$/, "").length;
  }

  function rangeProblem(input, form) {
    var d = input.dataset;
    var v = parseNumber(input.value);
    if (v === null) return null;
    if (Number.isNaN(v)) return { message: "Must be a number.", early: true };
    var unit = d.unit ? " " + d.unit : "";
    var max = d.max;
    if (input.hasAttribute("data-max-bilateral")) {
      var scale = form.querySelector('input[name="mmt8.scale"]:checked');
      max = scale && scale.value === "unilateral" ? d.maxUnilateral : d.maxBilateral;
    }
    var exclusive = d.minExclusive === "true";
    var between = "Must be between " + d.min + " and " + max + unit + ".";
    if (d.step === "1" && !Number.isInteger(v)) return { message: "Must be a whole number.", early: true };
    if (d.min !== undefined && (exclusive ? v <= Number(d.min) : v < Number(d.min))) {
      // "0" on the way to "0.5" is not yet a mistake: said when the field is left.
      if (exclusive) return { message: "Must be greater than " + d.min + unit + ".", early: false };
      return { message: max !== undefined ? between : "Must be at least " + d.min + unit + ".", early: true };
    }
    if (max !== undefined && v > Number(max)) {
      return { message: d.min !== undefined && !exclusive ? between : "Must be at most " + max + unit + ".", early: true };
    }
    if (d.step && d.step !== "1" && decimalsOf(input.value) > decimalsOf(d.step)) {
      return { message: "Must be given in steps of " + d.step + ".", early: true };
    }
    return null;
  }

  function describedBy(input, id, add) {
    var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    ids = ids.filter(function (x) { return x !== id; });
    if (add) ids.push(id);
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  /* A link of the error summary leaves "#f-…" in the address; once that field is corrected
   * (or the form is sent again) it would follow the page through the save and its redirect. */
  function dropFieldFragment() {
    if (window.location.hash.indexOf("#f-") === 0 && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }

  function initRanges(form) {
    function check(input, leaving) {
      var warning = document.getElementById(input.id + "-warning");
      if (!warning) return;
      var problem = rangeProblem(input, form);
      var show = problem && (problem.early || leaving);
      var serverError = document.getElementById(input.id + "-error");
      if (show) {
        warning.textContent = problem.message;
        warning.hidden = false;
        input.classList.add("out-of-range");
        input.setAttribute("aria-invalid", "true");
        describedBy(input, warning.id, true);
        return;
      }
      warning.hidden = true;
      warning.textContent = "";
      input.classList.remove("out-of-range");
      describedBy(input, warning.id, false);
      if (problem) return;  // not said yet, but not correct either
      if (serverError && input.value !== input.defaultValue) {
        // The server's complaint was about the value it saw; this one is within range.
        serverError.hidden = true;
        describedBy(input, serverError.id, false);
        var cell = input.closest(".has-error");
        if (cell) cell.classList.remove("has-error");
      }
      if (!serverError || serverError.hidden) input.removeAttribute("aria-invalid");
      if (window.location.hash === "#" + input.id) dropFieldFragment();
    }
    var inputs = form.querySelectorAll("input[data-min], input[data-max]");
    inputs.forEach(function (input) {
      input.addEventListener("input", function () { check(input, false); });
      input.addEventListener("blur", function () { check(input, true); });
      if (input.value && !document.getElementById(input.id + "-error")) check(input, true);
    });
    form.querySelectorAll("[data-role=mmt-scale]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var total = form.querySelector("input[data-max-bilateral]");
        if (total) check(total, true);
      });
    });
    form.addEventListener("submit", dropFieldFragment);
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
    if (form) { initMmt(form); initLabs(form); initHaq(form); initRanges(form); }
    initScores();
  });
})();
