/* Merchant Registry: the embeddable "call me back" button (docs/embed.md).
 *
 * <script src="https://REGISTRY/embed/v1/callback.js" data-merchant="42"
 *         data-order-ref="A-1234" data-lang="zh-CN" async></script>
 *
 * Reads the store's public profile from the registry that served this script (nothing from any
 * other host), draws a button in a shadow root (the page's styles do not reach it), and opens
 * the callback flow in a modal dialog. The flow posts its events to this page's origin:
 * registry:callback.requested {id}, registry:callback.status {id, status}; this script posts
 * registry:closed when the dialog closes.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var LABELS = {en: "Call me back", zh: "请给我回电"};
  var CLOSE = {en: "Close", zh: "关闭"};
  var base = new URL(script.src).origin;
  var merchant = script.getAttribute("data-merchant") || "";
  var lang = (script.getAttribute("data-lang") || "en").toLowerCase().split("-")[0];
  if (!Object.prototype.hasOwnProperty.call(LABELS, lang)) { lang = "en"; }
  var orderRef = script.getAttribute("data-order-ref") || "";

  function warn(text) { window.console && console.warn("[registry callback button] " + text); }

  if (!/^[1-9][0-9]{0,17}$/.test(merchant)) {
    warn("data-merchant must be the store's numeric id; nothing is shown.");
    return;
  }

  var css = ":host{all:initial;display:inline-block}" +
    "button.open{font:600 16px/1.2 system-ui,-apple-system,'Segoe UI',sans-serif;color:#fff;" +
    "background:#c2410c;border:1px solid #9a3412;border-radius:8px;padding:10px 18px;cursor:pointer}" +
    "button.open:hover{background:#9a3412}button:focus-visible{outline:3px solid #2563eb;outline-offset:2px}" +
    "dialog{width:min(440px,96vw);height:min(660px,92vh);padding:0;border:0;border-radius:12px;" +
    "box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden}dialog::backdrop{background:rgba(0,0,0,.45)}" +
    "iframe{width:100%;height:100%;border:0;display:block}" +
    "button.close{position:absolute;top:8px;right:8px;width:36px;height:36px;border:0;border-radius:50%;" +
    "background:#f5f7fa;color:#1d2430;font:24px/1 system-ui,sans-serif;cursor:pointer}";

  function render() {
    var host = document.createElement("span");
    host.setAttribute("data-registry-callback", merchant);
    var shadow = host.attachShadow({mode: "open"});
    var style = document.createElement("style");
    style.textContent = css;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "open";
    button.textContent = LABELS[lang];
    button.setAttribute("lang", lang === "zh" ? "zh-Hans" : "en");
    var dialog = document.createElement("dialog");
    dialog.setAttribute("aria-label", LABELS[lang]);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "close";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", CLOSE[lang]);
    shadow.appendChild(style);
    shadow.appendChild(button);
    shadow.appendChild(dialog);
    var frame = null;

    function flowUrl() {
      var query = "?origin=" + encodeURIComponent(window.location.origin) +
        "&lang=" + encodeURIComponent(lang) +
        (orderRef ? "&order_ref=" + encodeURIComponent(orderRef) : "");
      return base + "/embed/v1/merchants/" + merchant + "/callback" + query;
    }

    button.addEventListener("click", function () {
      frame = document.createElement("iframe");
      frame.title = LABELS[lang];
      frame.src = flowUrl();
      dialog.textContent = "";
      dialog.appendChild(frame);
      dialog.appendChild(close);
      dialog.showModal();
      frame.focus();
    });
    close.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      if (frame) { frame.remove(); frame = null; }
      button.focus();
      window.postMessage({type: "registry:closed", merchant: Number(merchant)}, window.location.origin);
    });
    window.addEventListener("message", function (event) {
      if (event.origin === base && frame && event.source === frame.contentWindow &&
          event.data && event.data.type === "registry:escape" && dialog.open) {
        dialog.close();
      }
    });
    if (script.parentNode && script.parentNode !== document.head) {
      script.parentNode.insertBefore(host, script);
    } else {
      document.body.appendChild(host);
    }
  }

  fetch(base + "/api/v1/merchants/" + merchant, {credentials: "omit", headers: {"Accept": "application/json"}})
    .then(function (response) {
      if (response.status === 404) { throw new Error("store " + merchant + " is unknown"); }
      if (!response.ok) { throw new Error("the registry answered " + response.status); }
      return response.json();
    })
    .then(function (profile) {
      if (!profile.callback_available) {
        warn("store " + merchant + " takes no callbacks now; nothing is shown.");
        return;
      }
      if (document.body) { render(); } else { document.addEventListener("DOMContentLoaded", render); }
    }, function (error) { warn(error.message + "; nothing is shown."); });
})();
