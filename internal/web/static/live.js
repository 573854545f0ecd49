// Live updates (docs/LIVE.md): the page listens to the signed-in person's event stream
// and updates itself — new comments appear in the thread, properties changed by others
// update the sidebar (or, when the agent has unsaved edits there, a notice says so),
// the sharing panel follows its deliveries, lists offer "N tickets updated — show"
// instead of reshuffling, and ticket pages show who else views or types. Everything
// still works without it: a reload shows the same.
(function () {
  "use strict";
  var body = document.body;
  var url = body && body.getAttribute("data-live");
  if (!url || !window.EventSource || !window.fetch) { return; }
  var me = body.getAttribute("data-me");
  var holder = document.querySelector("[data-live-ticket]");
  var ticketID = holder ? holder.getAttribute("data-live-ticket") : "";
  // Presence is for the agent workspace's ticket page (not the help center's view of it).
  var isAgent = url.indexOf("/agent/") === 0 && body.classList.contains("area-agent");

  function csrf() {
    var i = document.querySelector('input[name="csrf_token"]');
    if (i) { return i.value; }
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRF-Token"]; } catch (e) { return ""; }
  }

  // ---- The ticket page: thread and sharing panel -------------------------------------
  var refreshing = false, again = false;
  function refreshTicket() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var thread = document.querySelector(".thread"), fresh = doc.querySelector(".thread");
        if (thread && fresh) {
          Array.prototype.forEach.call(fresh.children, function (li) {
            var key = li.getAttribute("data-entry");
            if (!key || thread.querySelector('[data-entry="' + cssEscape(key) + '"]')) { return; }
            li.classList.add("live-new");
            var head = li.querySelector(".comment-head");
            if (head) {
              var b = document.createElement("span");
              b.className = "badge badge-new";
              b.textContent = "New";
              head.appendChild(b);
            }
            thread.appendChild(document.importNode(li, true));
          });
        }
        var box = document.getElementById("share-box"), newBox = doc.getElementById("share-box");
        if (box && newBox && box.outerHTML !== newBox.outerHTML) {
          var node = document.importNode(newBox, true);
          box.replaceWith(node);
          if (window.htmx) { window.htmx.process(node); }
        }
      })
      .catch(function () { /* the next event or a reload shows it */ })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refreshTicket(); }
      });
  }

  function cssEscape(s) { return window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/["\\]/g, "\\$&"); }

  // Property fields of the sidebar, by the audit's field name.
  var fieldIDs = { status: "status", priority: "priority", type: "type", assignee_id: "assignee", group_id: "group", organization_id: "organization", tags: "tags" };
  var fieldNames = { status: "status", priority: "priority", type: "type", assignee_id: "assignee", group_id: "group", organization_id: "organization", tags: "tags" };
  // What each field held when the page (or the last live update) set it: a field whose
  // value differs is an unsaved edit of the agent.
  var baseline = {};
  Object.keys(fieldIDs).forEach(function (f) {
    var el = document.getElementById(fieldIDs[f]);
    if (el) { baseline[f] = el.value; }
  });

  function shown(el, value) {
    if (el.tagName === "SELECT") {
      for (var i = 0; i < el.options.length; i++) {
        if (el.options[i].value === value) { return el.options[i].text.replace(/^[–\s]+$/, "none"); }
      }
      return value || "none";
    }
    return value || "none";
  }

  function applyField(f, by) {
    var el = document.getElementById(fieldIDs[f.field]);
    if (!el) { return; }
    var value = f.value;
    if (el.tagName === "SELECT" && (f.field === "assignee_id" || f.field === "group_id" || f.field === "organization_id") && value === "") { value = "0"; }
    var dirty = el.value !== baseline[f.field];
    baseline[f.field] = value;
    var box = el.closest(".field") || el.parentNode;
    var note = box.querySelector(".field-conflict");
    if (dirty && el.value !== value) {
      if (!note) {
        note = document.createElement("p");
        note.className = "field-conflict";
        note.setAttribute("role", "alert");
        box.appendChild(note);
      }
      note.textContent = (by || "Someone") + " changed " + fieldNames[f.field] + " to " + shown(el, value) + ". Your unsaved choice is kept; submitting it overwrites theirs.";
      return;
    }
    if (note) { note.remove(); }
    if (el.tagName === "SELECT" && !el.querySelector('option[value="' + cssEscape(value) + '"]')) { return; }
    el.value = value;
    el.classList.add("live-changed");
    setTimeout(function () { el.classList.remove("live-changed"); }, 2500);
  }

  // ---- Presence: who else views this ticket, who types ---------------------------------
  var tab = "";
  var typing = "", typingTimer = null, lastBeat = 0;
  function beat(leave) {
    if (!isAgent || !ticketID) { return; }
    var data = new FormData();
    data.append("csrf_token", csrf());
    data.append("tab", tab);
    if (leave) {
      data.append("leave", "1");
      if (navigator.sendBeacon) { navigator.sendBeacon("/agent/tickets/" + ticketID + "/presence", data); return; }
    } else {
      data.append("typing", typing);
    }
    lastBeat = Date.now();
    fetch("/agent/tickets/" + ticketID + "/presence", { method: "POST", body: data, credentials: "same-origin", keepalive: !!leave }).catch(function () {});
  }
  function showPresence(viewers) {
    var p = document.getElementById("presence");
    if (!p) { return; }
    var others = (viewers || []).filter(function (v) { return String(v.id) !== me; });
    if (!others.length) { p.hidden = true; p.textContent = ""; return; }
    var parts = others.map(function (v) {
      if (v.typing === "internal") { return v.name + " is typing an internal note"; }
      if (v.typing === "public") { return v.name + " is typing a public reply"; }
      return v.name + " is viewing";
    });
    p.textContent = "👁 " + parts.join(" · ");
    p.hidden = false;
  }
  if (isAgent && ticketID) {
    var rnd = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(rnd);
    tab = Array.prototype.map.call(rnd, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    beat(false);
    setInterval(function () { if (Date.now() - lastBeat > 4000) { beat(false); } }, 5000);
    window.addEventListener("pagehide", function () { beat(true); });
    var comment = document.getElementById("comment");
    if (comment) {
      comment.addEventListener("input", function () {
        var kind = document.querySelector('input[name="visibility"]:checked');
        var now = kind && kind.value === "internal" ? "internal" : "public";
        if (comment.value === "") { now = ""; }
        if (now !== typing) { typing = now; beat(false); }
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { if (typing) { typing = ""; beat(false); } }, 6000);
      });
    }
  }

  // ---- Lists: "N tickets updated — show", eye icons -----------------------------------
  var listed = {};
  document.querySelectorAll("tr[data-ticket]").forEach(function (tr) { listed[tr.getAttribute("data-ticket")] = tr; });
  var updated = {};
  function noteListUpdate(ev) {
    var bar = document.getElementById("list-updates");
    if (!bar) { return; }
    updated[ev.ticket] = true;
    var n = Object.keys(updated).length;
    bar.querySelector("[data-list-count]").textContent = n + (n === 1 ? " ticket updated —" : " tickets updated —");
    bar.querySelector("[data-list-show]").setAttribute("href", location.pathname + location.search);
    bar.hidden = false;
  }

  // ---- Notifications -------------------------------------------------------------------
  function notified(ev) {
    var c = document.querySelector("[data-notif-count]");
    if (c) {
      c.textContent = String((parseInt(c.textContent, 10) || 0) + 1);
      c.hidden = false;
    }
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      try { new Notification("Tandem", { body: "Something new on ticket #" + ev.ticket }); } catch (e) { /* not allowed here */ }
    }
  }
  document.querySelectorAll("[data-browser-notifications]").forEach(function (b) {
    if (!window.Notification || Notification.permission !== "default") { return; }
    b.hidden = false;
    b.addEventListener("click", function () { Notification.requestPermission(); b.hidden = true; });
  });

  // ---- The stream ----------------------------------------------------------------------
  var es = new EventSource(url);
  // An event can come twice after a reconnection (on PostgreSQL the stream resends what
  // may have committed after the last id it had, docs/LIVE.md): each id is handled once.
  var had = {};
  function parse(m) {
    if (m.lastEventId && m.type !== "presence") { // presence carries no id of its own
      var k = m.type + ":" + m.lastEventId;
      if (had[k]) { return null; }
      had[k] = true;
    }
    try { return JSON.parse(m.data); } catch (e) { return null; }
  }
  function changed() { body.dispatchEvent(new CustomEvent("live-change", { bubbles: true })); }
  es.addEventListener("ticket", function (m) {
    var ev = parse(m);
    if (!ev) { return; }
    changed();
    if (ticketID && String(ev.ticket) === ticketID) {
      if (ev.comments && ev.comments.length || ev.fields && ev.fields.some(function (f) { return f.field === "comment_private"; })) { refreshTicket(); }
      if (String(ev.by_id) !== me && ev.fields) {
        ev.fields.forEach(function (f) { applyField(f, ev.by); });
      }
      return;
    }
    if (!ticketID && String(ev.by_id) !== me) {
      if (listed[ev.ticket] && !ev.created) {
        listed[ev.ticket].classList.add("unread");
      }
      noteListUpdate(ev);
    }
  });
  es.addEventListener("delivery", function (m) {
    var ev = parse(m);
    if (ev && ticketID && String(ev.ticket) === ticketID) { refreshTicket(); }
    changed();
  });
  es.addEventListener("presence", function (m) {
    var ev = parse(m);
    if (!ev) { return; }
    if (ticketID && String(ev.ticket) === ticketID) { showPresence(ev.viewers); }
    var tr = listed[ev.ticket];
    var eye = tr && tr.querySelector(".eye");
    if (eye) { eye.hidden = !(ev.viewers && ev.viewers.length); }
  });
  es.addEventListener("notification", function (m) {
    var ev = parse(m);
    if (ev) { notified(ev); }
  });
  es.addEventListener("resync", function () {
    // Events were missed: fetch what the page shows again.
    changed();
    if (ticketID) { refreshTicket(); } else { noteListUpdate({ ticket: "resync" }); }
  });
  es.addEventListener("end", function () { es.close(); });
  window.addEventListener("pagehide", function () { es.close(); });
})();
