// mnemo ui: the one script. Pages are rendered on the server and work
// without it; it only shows a "reload" link when another process writes.
(function () {
  "use strict";
  var rendered = document.body.getAttribute("data-version");
  var link = document.getElementById("live");
  if (!window.EventSource || !link) return;
  var es = new EventSource("/events");
  es.addEventListener("version", function (e) {
    if (rendered && e.data && e.data !== rendered) {
      // Reading pages reload at once; a page with a form the user may be
      // typing into offers the reload instead.
      var editing = document.querySelector("textarea, input[name=tags]");
      if (!editing && document.activeElement === document.body) {
        window.location.reload();
        return;
      }
      link.hidden = false;
      link.href = window.location.href;
    }
  });
})();
