/* Runs in <head> before the page paints: applies the theme saved in this browser
   (localStorage), keeps the cookie in step so the server renders it next time, and
   marks the document as scripted. */
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  var valid = /^(light|dark|system)$/;
  try {
    var saved = window.localStorage.getItem("freeway-theme");
    if (saved && valid.test(saved)) {
      if (saved !== root.getAttribute("data-theme")) {
        root.setAttribute("data-theme", saved);
      }
      var secure = window.location.protocol === "https:" ? "; secure" : "";
      document.cookie = "freeway_theme=" + saved + "; path=/; max-age=31536000; samesite=strict" + secure;
    }
  } catch (e) {
    /* storage disabled: the cookie alone remembers the theme */
  }
})();
