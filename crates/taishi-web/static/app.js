// taishi console: a few progressive enhancements. Every page works without this file.
// SPDX-License-Identifier: Apache-2.0
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // "Select all" checkboxes of bulk-action tables.
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      var name = all.getAttribute("data-select-all");
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
  // Forms that ask before doing something that cannot be undone.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
  // Selects that apply their filter at once.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { if (sel.form) { sel.form.submit(); } });
  });
  // The big screen's clock.
  var clock = document.getElementById("clock");
  if (clock) {
    var zone = clock.getAttribute("data-tz") || undefined;
    var tick = function () {
      clock.textContent = new Date().toLocaleString(document.documentElement.lang, { timeZone: zone });
    };
    tick();
    window.setInterval(tick, 1000);
  }
});
