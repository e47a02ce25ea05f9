// The resend button's countdown: enabled again when the server's wait is over.
// The server enforces the wait anyway; this only saves a refused click.
(function () {
  var button = document.getElementById("send-code");
  var note = document.getElementById("resend-wait");
  if (!button || !note) { return; }
  var left = parseInt(button.getAttribute("data-wait"), 10) || 0;
  if (left <= 0) { return; }
  var shown = note.querySelector("[data-seconds]");
  var timer = setInterval(function () {
    left -= 1;
    if (left <= 0) {
      clearInterval(timer);
      button.disabled = false;
      note.hidden = true;
    } else {
      shown.textContent = left;
    }
  }, 1000);
})();
