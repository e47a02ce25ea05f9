// Integration clients (staff console): ask before a key is revoked, and copy a new key.
// The server does the work either way; without script the forms still post.
(function () {
  var forms = document.querySelectorAll("form[data-confirm]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  var button = document.getElementById("copy-key");
  if (!button || !navigator.clipboard) { return; }
  var key = document.getElementById(button.getAttribute("data-copy"));
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(key.textContent.trim()).then(function () {
      button.textContent = button.getAttribute("data-copied");
    });
  });
})();
