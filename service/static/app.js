// Progressive enhancement only: every feature works without this file.
// - facet checkboxes apply immediately (no "絞り込む" click needed). Radios and the sort select do
//   not: arrow keys change them step by step, and a reload per key press would trap keyboard users;
// - on a phone the filter panel starts folded;
// - the permalink field selects itself on focus for easy copying;
// - the case page's citation gets a copy button and a print button (the text stays selectable, and
//   the browser's own print command gives the same print view, without them).
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // Clipboard API unavailable (plain http on another host): select the text and use the old command.
  function selectAndCopy(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("search-form");
    if (form) {
      form.addEventListener("change", function (event) {
        var target = event.target;
        if (target && target.classList && target.classList.contains("js-autosubmit")) {
          // Changing a filter starts again from page 1 (the page number is not a form field).
          if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
        }
      });
      // Do not send empty fields (?date_from=&date_to=): keeps shared URLs short.
      form.addEventListener("submit", function () {
        Array.prototype.forEach.call(form.querySelectorAll("input[type=date], input[type=search]"), function (el) {
          if (!el.value) { el.disabled = true; }
        });
        window.setTimeout(function () {
          Array.prototype.forEach.call(form.querySelectorAll("input:disabled"), function (el) { el.disabled = false; });
        }, 0);
      });
    }
    // On a phone the filter panel starts folded (results first); it stays open when filters are set.
    var panel = document.getElementById("facet-panel");
    if (panel && window.matchMedia("(max-width: 48rem)").matches && !panel.querySelector("input:checked")) {
      panel.open = false;
    }
    var permalink = document.getElementById("permalink");
    if (permalink) {
      permalink.addEventListener("focus", function () { permalink.select(); });
    }
    Array.prototype.forEach.call(document.querySelectorAll(".js-copy"), function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      var status = button.parentNode.querySelector(".copy-status");
      if (!target) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = target.textContent.replace(/\s+/g, " ").trim();
        var done = function (ok) {
          if (status) { status.textContent = ok ? "引用文をコピーしました。" : "コピーできませんでした。文を選択してコピーしてください。"; }
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(selectAndCopy(target)); });
        } else {
          done(selectAndCopy(target));
        }
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll(".js-print"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
