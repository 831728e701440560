/* Progressive enhancement for the panel.  Every feature here also works without
   script (dialogs become pages, the theme switch posts a form). */
(function () {
  "use strict";

  function setTheme(theme) {
    var root = document.documentElement;
    root.setAttribute("data-theme", theme);
    try { window.localStorage.setItem("freeway-theme", theme); } catch (e) { /* cookie only */ }
    var secure = window.location.protocol === "https:" ? "; secure" : "";
    document.cookie = "freeway_theme=" + theme + "; path=/; max-age=31536000; samesite=strict" + secure;
    document.querySelectorAll("[data-theme-form] input[name=theme]").forEach(function (input) {
      input.checked = input.value === theme;
    });
  }

  function openDialog(dialog) {
    if (!dialog || dialog.dataset.opened) return;
    dialog.dataset.opened = "1";
    if (dialog.hasAttribute("open")) dialog.removeAttribute("open");
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
  }

  function closeDialog(dialog) {
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
  }

  function initDialogs(root) {
    root.querySelectorAll("dialog[data-autoshow]").forEach(openDialog);
  }

  function validateJson(textarea) {
    var error = document.getElementById(textarea.id + "-error");
    var text = textarea.value.trim();
    var message = "";
    if (text) {
      try {
        var value = JSON.parse(text);
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
          message = "metadata must be a JSON object, like {\"team\": \"backend\"}";
        }
      } catch (e) {
        message = "metadata is not valid JSON: " + e.message;
      }
    }
    textarea.setAttribute("aria-invalid", message ? "true" : "false");
    if (error) {
      error.textContent = message;
      error.hidden = !message;
    }
    return !message;
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;

    var menu = target.closest("[data-menu]");
    if (menu) {
      var nav = document.getElementById(menu.getAttribute("aria-controls"));
      var open = menu.getAttribute("aria-expanded") !== "true";
      menu.setAttribute("aria-expanded", open ? "true" : "false");
      if (nav) nav.classList.toggle("open", open);
      return;
    }

    var closer = target.closest("[data-close]");
    if (closer) {
      var dialog = closer.closest("dialog");
      // In the slot it is an overlay: just close it.  A dialog rendered as its own
      // page follows the link back instead.
      if (dialog && dialog.closest("#dialog-slot")) {
        event.preventDefault();
        closeDialog(dialog);
      }
      return;
    }

    var copy = target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (!source) return;
      var text = source.value !== undefined ? source.value : source.textContent;
      var label = copy.querySelector("[data-copy-label]") || copy;
      var done = function () { label.textContent = "Copied"; copy.classList.add("copied"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {
          source.select(); document.execCommand("copy"); done();
        });
      } else {
        if (source.select) source.select();
        document.execCommand("copy");
        done();
      }
    }
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input && input.name === "theme" && input.closest("[data-theme-form]")) {
      setTheme(input.value);
    }
  });

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input && input.matches && input.matches("textarea[data-json]")) validateJson(input);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("[data-theme-form]")) {
      // The radios already applied the theme; no round trip needed.
      event.preventDefault();
      var checked = form.querySelector("input[name=theme]:checked");
      if (checked) setTheme(checked.value);
      return;
    }
    if (form.matches("[data-json-form]")) {
      var invalid = Array.prototype.filter.call(
        form.querySelectorAll("textarea[data-json]"),
        function (area) { return !validateJson(area); }
      );
      if (invalid.length) {
        event.preventDefault();
        invalid[0].focus();
      }
    }
  });

  // Dialogs loaded into the slot by htmx open as modals; closing one empties the slot.
  document.addEventListener("htmx:afterSwap", function (event) {
    var slot = event.detail && event.detail.target;
    if (slot && slot.id === "dialog-slot") {
      var dialog = slot.querySelector("dialog");
      if (dialog) {
        openDialog(dialog);
        dialog.addEventListener("close", function () { slot.innerHTML = ""; });
      }
    }
    initDialogs(event.detail.target || document);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var nav = document.querySelector(".sidebar.open");
      var menu = document.querySelector("[data-menu]");
      if (nav && menu) {
        nav.classList.remove("open");
        menu.setAttribute("aria-expanded", "false");
        menu.focus();
      }
    }
  });

  function start() { initDialogs(document); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
