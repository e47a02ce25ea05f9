// The callback flow inside a shop's dialog (templates/callbacks/embed.html, docs/embed.md).
// Same origin as the JSON API: it proves the shopper's number, keeps their token in memory
// only (a third-party frame may have no cookies), asks for the callback, follows it, and tells
// the shop's page what happened with postMessage, to the origin the server verified only.
(function () {
  "use strict";
  var root = document.getElementById("embed");
  if (!root || !document.getElementById("step-phone")) { return; }
  var config = JSON.parse(root.getAttribute("data-config"));
  var words = config.words;
  var api = "/api/v1";
  var token = null;
  var phone = null;
  var zone = null;
  var callbackId = null;
  var lastStatus = null;
  var timer = null;

  function $(id) { return document.getElementById(id); }

  function tell(message) {
    if (window.parent !== window) { window.parent.postMessage(message, config.origin); }
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : all;
    });
  }

  function call(method, path, body) {
    var headers = {"Accept": "application/json", "Accept-Language": config.lang};
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (token) { headers["Authorization"] = "Bearer " + token; }
    return fetch(api + path, {
      method: method, headers: headers, credentials: "omit",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw data.error || {message: words.failed}; }
        return data;
      });
    });
  }

  var fields = ["phone", "code", "when", "note"];

  function clearErrors() {
    $("embed-error").hidden = true;
    fields.forEach(function (name) {
      var error = $(name + "-error");
      if (error) { error.hidden = true; error.textContent = ""; }
      if ($(name)) { $(name).removeAttribute("aria-invalid"); }
    });
  }

  function showError(error) {
    var name = (error.field || "").split(".")[0];
    if (name === "number") { name = "phone"; }
    var place = fields.indexOf(name) >= 0 ? $(name + "-error") : null;
    if (place && !place.parentElement.closest("[hidden]")) {
      place.textContent = error.message || words.failed;
      place.hidden = false;
      $(name).setAttribute("aria-invalid", "true");
      $(name).focus();
    } else {
      $("embed-error").textContent = error.message || words.failed;
      $("embed-error").hidden = false;
    }
  }

  function show(step) {
    ["step-phone", "step-code", "step-when", "step-status"].forEach(function (id) {
      $(id).hidden = id !== step;
    });
    var focus = $(step).querySelector("input, select, button");
    if (focus) { focus.focus(); }
  }

  function localTime(iso, options) {
    var format = Object.assign({timeZone: zone || undefined}, options);
    return new Intl.DateTimeFormat(config.lang === "zh" ? "zh-CN" : "en-GB", format).format(new Date(iso));
  }

  function statusText(data) {
    if (data.status === "scheduled" && data.due_at) {
      var when = localTime(data.due_at, {weekday: "short", day: "numeric", month: "short",
                                         hour: "2-digit", minute: "2-digit"});
      return fill(words.scheduled, {when: when, zone: zone || "UTC"});
    }
    if (data.status === "calling" && data.call_phase === "calling_shopper") { return words.calling_you; }
    return words.status[data.status] || data.status;
  }

  function showStatus(data) {
    $("status-text").textContent = statusText(data);
    $("cancel-callback").hidden = ["requested", "scheduled"].indexOf(data.status) < 0;
    if (data.status !== lastStatus) {
      lastStatus = data.status;
      tell({type: "registry:callback.status", id: data.id, status: data.status});
    }
  }

  function poll() {
    call("GET", "/callbacks/" + callbackId).then(showStatus, function () { return null; })
      .then(function () {
        if (["completed", "failed", "expired", "canceled"].indexOf(lastStatus) < 0) {
          timer = setTimeout(poll, 3000);
        }
      });
  }

  function fillSlots(data) {
    var select = $("when");
    select.textContent = "";
    zone = data.shopper_timezone;
    $("when-help").textContent = fill(words.zone, {zone: zone});
    var asap = document.createElement("option");
    asap.value = "asap";
    asap.textContent = words.asap;
    select.appendChild(asap);
    var group = null;
    var day = null;
    data.items.forEach(function (slot) {
      var label = localTime(slot.start, {weekday: "long", day: "numeric", month: "long"});
      if (label !== day) {
        day = label;
        group = document.createElement("optgroup");
        group.label = label;
        select.appendChild(group);
      }
      var option = document.createElement("option");
      option.value = slot.start;
      // The day too: a closed list shows the chosen option without its group.
      option.textContent = localTime(slot.start, {weekday: "short", day: "numeric", month: "short"}) +
        ", " + localTime(slot.start, {hour: "2-digit", minute: "2-digit"}) + "–" +
        localTime(slot.end, {hour: "2-digit", minute: "2-digit"});
      group.appendChild(option);
    });
    if (data.unavailable_reason) { showError({message: data.unavailable_reason}); }
  }

  $("step-phone").addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    phone = $("phone").value;
    call("POST", "/shopper/verification", {phone: phone}).then(function (sent) {
      var template = sent.channel === "call" ? words.sent_call : words.sent_sms;
      $("code-sent").textContent = fill(template, {phone: phone});
      show("step-code");
    }, showError);
  });

  $("other-number").addEventListener("click", function () { clearErrors(); show("step-phone"); });

  $("step-code").addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    call("POST", "/shopper/verification/check", {phone: phone, code: $("code").value})
      .then(function (answer) {
        token = answer.token;
        zone = answer.shopper.timezone;
        return call("GET", "/merchants/" + config.merchant + "/callback-slots");
      })
      .then(function (slots) { fillSlots(slots); show("step-when"); }, showError);
  });

  $("step-when").addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var chosen = $("when").value;
    var body = {when: chosen === "asap" ? "asap" : {start: chosen}};
    if (config.order_ref) { body.order_ref = config.order_ref; }
    if ($("note").value.trim()) { body.note = $("note").value; }
    call("POST", "/merchants/" + config.merchant + "/callbacks", body).then(function (created) {
      callbackId = created.id;
      tell({type: "registry:callback.requested", id: created.id});
      show("step-status");
      showStatus(created);
      timer = setTimeout(poll, 3000);
    }, showError);
  });

  $("cancel-callback").addEventListener("click", function () {
    clearErrors();
    call("DELETE", "/callbacks/" + callbackId).then(function (data) {
      clearTimeout(timer);
      showStatus(data);
    }, showError);
  });

  $("phone").focus();

  // Escape inside the frame closes the shop's dialog too (keys do not leave a frame).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { tell({type: "registry:escape"}); }
  });
})();
