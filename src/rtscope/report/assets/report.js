// rtscope report: open and highlight the event a link points to; filter and expand the lists.
// Reads only the DOM built by the report (textContent and attributes; never innerHTML).
(function () {
  "use strict";
  function reveal(id) {
    var el = document.getElementById(id);
    if (!el || el.tagName !== "DETAILS") { return; }
    el.open = true;
    var old = document.querySelectorAll("details.hl");
    for (var i = 0; i < old.length; i++) { old[i].classList.remove("hl"); }
    el.classList.add("hl");
    el.scrollIntoView({block: "center"});
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a[href^='#ev-']") : null;
    if (!a) { return; }
    e.preventDefault();
    var id = a.getAttribute("href").slice(1);
    history.replaceState(null, "", "#" + id);
    reveal(id);
  });
  if (location.hash.indexOf("#ev-") === 0) { reveal(location.hash.slice(1)); }
  var lists = document.querySelectorAll("section.conn");
  for (var s = 0; s < lists.length; s++) {
    (function (section) {
      var input = section.querySelector(".toolbar input");
      var rows = section.querySelectorAll(".events details");
      if (input) {
        input.addEventListener("input", function () {
          var q = input.value.trim().toLowerCase();
          for (var i = 0; i < rows.length; i++) {
            var ty = (rows[i].getAttribute("data-type") || "").toLowerCase();
            rows[i].style.display = !q || ty.indexOf(q) >= 0 ? "" : "none";
          }
        });
      }
      var buttons = section.querySelectorAll(".toolbar button");
      for (var b = 0; b < buttons.length; b++) {
        buttons[b].addEventListener("click", function (ev) {
          var open = ev.target.getAttribute("data-open") === "1";
          for (var i = 0; i < rows.length; i++) { rows[i].open = open; }
        });
      }
    })(lists[s]);
  }
  document.body.setAttribute("data-ready", "1");
})();
