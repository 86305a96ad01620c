// Progressive enhancement only: every feature works without this file.
// - facet checkboxes apply immediately (no "絞り込む" click needed). Radios and the sort select do
//   not: arrow keys change them step by step, and a reload per key press would trap keyboard users;
// - on a phone the filter panel starts folded;
// - the permalink field selects itself on focus for easy copying;
// - the case page's citation gets a copy button and a print button (the text stays selectable, and
//   the browser's own print command gives the same print view, without them);
// - the search box suggests completions (/api/suggest) as an ARIA combobox: arrow keys move,
//   Enter takes the highlighted one (Enter again searches), Escape closes.
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
    Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest]"), enhanceSuggest);
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

  function enhanceSuggest(input) {
    var url = input.getAttribute("data-suggest");
    var holder = input.parentNode;
    var list = document.createElement("ul");
    var status = document.createElement("p");
    var items = [], active = -1, timer = null, seq = 0;
    list.id = input.id + "-suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "入力候補");
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    holder.classList.add("has-suggestions");
    holder.appendChild(list);
    holder.appendChild(status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);

    // Only the word being typed is completed: "ガバメントクラウド 再委" completes "再委".
    function lastWord() {
      var m = /(\S*)$/.exec(input.value);
      return m ? m[1] : "";
    }
    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function mark(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) {
        li.setAttribute("aria-selected", j === i ? "true" : "false");
      });
      if (i >= 0) {
        input.setAttribute("aria-activedescendant", list.children[i].id);
        list.children[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function choose(i) {
      var word = lastWord();
      input.value = input.value.slice(0, input.value.length - word.length) + items[i].text;
      close();
      input.focus();
    }
    function show(suggestions) {
      items = suggestions;
      list.textContent = "";
      items.forEach(function (s, i) {
        var li = document.createElement("li");
        var text = document.createElement("span");
        var count = document.createElement("span");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        text.textContent = s.text;
        count.className = "suggestion-count";
        count.textContent = s.count + "件";
        li.appendChild(text);
        li.appendChild(count);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      status.textContent = items.length ? "入力候補 " + items.length + " 件。上下の矢印キーで選べます。" : "";
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        mark(-1);
      } else {
        close();
      }
    }
    function fetchSuggestions() {
      var word = lastWord();
      var mine = ++seq;
      if (!word) { show([]); return; }
      fetch(url + "?limit=8&q=" + encodeURIComponent(word), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { if (mine === seq) { show(data.suggestions || []); } })
        .catch(function () { if (mine === seq) { show([]); } });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchSuggestions, 120);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && items.length > 0;
      if (event.key === "ArrowDown" && items.length) {
        event.preventDefault();
        if (!open) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        mark(active < items.length - 1 ? active + 1 : 0);
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        mark(active > 0 ? active - 1 : items.length - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();   // takes the suggestion; the next Enter searches
        choose(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }
})();
