// The phones page keeps itself current without reloading: every few seconds it asks for its
// changing part (`#live`, served with an ETag, so an unchanged page costs a bodyless 304) and
// swaps in only the keyed elements (`data-key`) that changed. What a person is doing is never
// disturbed: a field with focus or holding typing, or a choice changed in a list, stays as it
// is while the rest around it updates; nothing changes in the moment of a click.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch || !window.DOMParser) { return; }
  var url = live.getAttribute("data-poll");
  var period = (parseFloat(live.getAttribute("data-period")) || 2) * 1000;
  var last = null, pressedAt = 0, leaving = false;

  document.addEventListener("pointerdown", function () { pressedAt = Date.now(); }, true);
  document.addEventListener("submit", function () { leaving = true; }, true);

  function changed(field) {
    if (field.type === "hidden" || field.type === "submit" || field.type === "button") { return false; }
    if (field.tagName === "SELECT") {
      var initial = 0;
      for (var i = 0; i < field.options.length; i++) {
        if (field.options[i].defaultSelected) { initial = i; break; }
      }
      return field.options.length > 0 && field.selectedIndex !== initial;
    }
    return field.value !== field.defaultValue;
  }

  function inUse(el) {
    var active = document.activeElement;
    if (active && el.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) { return true; }
    return Array.prototype.some.call(el.querySelectorAll("input, select, textarea"), changed);
  }

  function keyed(parent) {
    return Array.prototype.filter.call(parent.children, function (c) { return c.hasAttribute("data-key"); });
  }

  // Make `current`'s keyed children look like `fresh`'s, touching only those that differ.
  function morph(current, fresh) {
    var olds = {};
    keyed(current).forEach(function (c) { olds[c.getAttribute("data-key")] = c; });
    var wanted = keyed(fresh).map(function (node) {
      var key = node.getAttribute("data-key"), old = olds[key];
      delete olds[key];
      if (!old) { return document.importNode(node, true); }
      if (old.isEqualNode(node)) { return old; }
      if (inUse(old)) {  // keep the person's field; bring what is around it up to date
        if (keyed(node).length) { morph(old, node); }
        return old;
      }
      return document.importNode(node, true);
    });
    Object.keys(olds).forEach(function (key) {
      if (inUse(olds[key])) { wanted.push(olds[key]); } else { olds[key].remove(); }
    });
    wanted.forEach(function (node, i) {
      var here = keyed(current)[i];
      if (here !== node) { current.insertBefore(node, here || null); }
    });
  }

  function tick() {
    if (leaving) { return; }
    if (Date.now() - pressedAt < 1000) { setTimeout(tick, 250); return; }  // a click is under way
    fetch(url, {cache: "no-cache", credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && html !== last && !leaving) {
          last = html;
          var fresh = new DOMParser().parseFromString(
            "<div id=\"live\">" + html + "</div>", "text/html").getElementById("live");
          morph(live, fresh);
        }
      })
      .catch(function () { /* the simulator restarts; try again next time */ })
      .then(function () { setTimeout(tick, period); });
  }
  setTimeout(tick, period);
})();
