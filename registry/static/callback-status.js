// The callback status page follows the request live: every 3 seconds it asks the JSON API
// for the request's state and, when it changed, re-reads the page and swaps in the new state
// block (the server renders it, in the visitor's language). A final state stops the polling.
(function () {
  var live = document.getElementById("callback-live");
  if (!live) { return; }
  var api = live.getAttribute("data-poll");
  function state() { return document.getElementById("callback-state"); }
  function signature(data) {
    var attempts = data.attempts.map(function (a) { return [a.state, a.outcome, a.phase]; });
    return JSON.stringify([data.status, data.due_at, data.reason, attempts]);
  }
  function redraw() {
    return fetch(window.location.pathname, {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var fresh = html && new DOMParser().parseFromString(html, "text/html")
          .getElementById("callback-state");
        if (fresh) { state().replaceWith(fresh); }
      });
  }
  function poll() {
    if (state().getAttribute("data-final") === "true") { return; }
    fetch(api, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401 || response.status === 404) { throw new Error("gone"); }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && signature(data) !== state().getAttribute("data-signature")) { return redraw(); }
      })
      .then(function () { setTimeout(poll, 3000); },
            function (error) { if (error.message !== "gone") { setTimeout(poll, 3000); } });
  }
  setTimeout(poll, 3000);
})();
