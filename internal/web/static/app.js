// Tandem's page behaviour: confirmations before irreversible actions, macros that fill
// the ticket form, and Ctrl/Cmd+Enter to submit a reply. Everything works without it;
// it only saves clicks. No inline handlers: the content security policy forbids them.
(function () {
  "use strict";

  // Forms with data-confirm ask before they are sent.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  }, true);

  // Ctrl/Cmd+Enter in a textarea submits its form.
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && t && t.tagName === "TEXTAREA" && t.form) {
      ev.preventDefault();
      if (t.form.requestSubmit) { t.form.requestSubmit(); } else { t.form.submit(); }
    }
  });

  // Macros fill the ticket form; the agent reviews and submits.
  function applyMacro(m) {
    var form = document.getElementById("ticket-form");
    if (!form) { return; }
    // Applying a macro whose text the reply already holds does not paste it again.
    var box = document.getElementById("comment");
    if (m.comment && box && box.value.indexOf(m.comment) < 0) {
      box.value = box.value ? box.value.replace(/\s+$/, "") + "\n\n" + m.comment : m.comment;
    }
    var kind = form.querySelector('input[name="visibility"][value="' + (m.internal ? "internal" : "public") + '"]');
    if (kind && m.comment) { kind.checked = true; }
    if (m.status) { setSelect("status", m.status); }
    if (m.priority) { setSelect("priority", m.priority); }
    if (m.type) { setSelect("type", m.type); }
    if (m.assignee_id) { setSelect("assignee", String(m.assignee_id)); }
    if (m.group_id) { setSelect("group", String(m.group_id)); }
    if (m.set_tags) { document.getElementById("tags").value = m.set_tags.join(" "); }
    if (m.add_tags && m.add_tags.length) {
      var tags = document.getElementById("tags");
      var have = tags.value.split(/\s+/).filter(Boolean);
      m.add_tags.forEach(function (x) { if (have.indexOf(x) < 0) { have.push(x); } });
      tags.value = have.join(" ");
    }
    // Record the macro's use (a numeric id: the starters are not macros of the account).
    if (/^[0-9]+$/.test(m.id || "") && !form.querySelector('input[name="macro_ids"][value="' + m.id + '"]')) {
      var used = document.createElement("input");
      used.type = "hidden"; used.name = "macro_ids"; used.value = m.id;
      form.appendChild(used);
    }
    var c = document.getElementById("comment");
    if (c) { c.focus(); }
  }

  function setSelect(id, value) {
    var s = document.getElementById(id);
    if (s && s.querySelector('option[value="' + value + '"]')) { s.value = value; }
  }

  // Rule editors: "Add a row" copies the last row of its table, emptied. Without
  // script the editor still has blank rows to fill.
  document.querySelectorAll("[data-add-row]").forEach(function (b) { b.hidden = false; });
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-add-row]");
    if (!b) { return; }
    var body = b.previousElementSibling && b.previousElementSibling.querySelector("tbody");
    if (!body || !body.lastElementChild) { return; }
    var row = body.lastElementChild.cloneNode(true);
    var n = body.children.length;
    row.querySelectorAll("input, textarea, select").forEach(function (el) {
      if (el.tagName === "SELECT") { el.selectedIndex = 0; } else { el.value = ""; }
      var label = row.querySelector('label[for="' + el.id + '"]');
      el.id = el.id.replace(/-\d+$/, "-" + n);
      if (label) { label.htmlFor = el.id; }
    });
    body.appendChild(row);
    var first = row.querySelector("select, input, textarea");
    if (first) { first.focus(); }
  });

  // A macro applies only on an explicit choice: Enter on the menu, or its Apply button.
  // Moving through the options (arrow keys fire "change") applies nothing.
  function applySelected(s) {
    if (!s || !s.value) { return; }
    var opt = s.options[s.selectedIndex];
    try {
      applyMacro(JSON.parse(opt.getAttribute("data-macro")));
    } catch (e) {
      // A malformed macro changes nothing.
    }
    s.value = "";
  }
  document.querySelectorAll("[data-apply-macro]").forEach(function (b) { b.hidden = false; });
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-apply-macro]");
    if (!b) { return; }
    ev.preventDefault();
    var box = b.closest(".macro");
    applySelected(box && box.querySelector(".macro-select"));
  });
  document.addEventListener("keydown", function (ev) {
    var s = ev.target;
    if (ev.key !== "Enter" || !s.classList || !s.classList.contains("macro-select")) { return; }
    ev.preventDefault();
    applySelected(s);
  });

  // SLA countdowns (issue 18): the time left to each running target, every 20 s; amber
  // under an hour or a quarter of the target, red once breached.
  function slaTick() {
    document.querySelectorAll("[data-breach-at]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("data-breach-at")) - Date.now()) / 60000);
      var target = parseInt(el.getAttribute("data-target-min"), 10) || 0;
      var fmt = function (m) {
        var d = Math.floor(m / 1440), h = Math.floor(m % 1440 / 60), mm = m % 60, p = [];
        if (d) { p.push(d + " d"); }
        if (h) { p.push(h + " h"); }
        if (mm || !p.length) { p.push(mm + " min"); }
        return p.join(" ");
      };
      var li = el.closest("li");
      if (left < 0) {
        el.textContent = "breached " + (left < -1 ? fmt(-left - 1) + " ago" : "just now");
        li.className = "sla sla-red";
      } else {
        el.textContent = (left < 1 ? "under a minute" : fmt(left)) + " left";
        li.className = "sla " + (left < 60 || left < target / 4 ? "sla-amber" : "sla-ok");
      }
    });
  }
  if (document.querySelector("[data-breach-at]")) { slaTick(); setInterval(slaTick, 20000); }
  // Knowledge base (kb_agent.go): "Insert link" in the ticket sidebar puts the
  // article's Markdown link into the reply; the ticket write path records it.
  document.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest && ev.target.closest("[data-kb-link]");
    if (!b) { return; }
    var box = document.getElementById("comment");
    if (!box) { return; }
    var link = "[" + b.getAttribute("data-kb-title").replace(/[\[\]]/g, "") + "](" + b.getAttribute("data-kb-link") + ")";
    var at = box.selectionStart || box.value.length;
    box.value = box.value.slice(0, at) + (at && !/\s$/.test(box.value.slice(0, at)) ? " " : "") + link + box.value.slice(at);
    box.focus();
  });
})();

// "Save this reply as my macro" sits inside the reply form: Enter in its title field
// must not send the reply (the form's first button).
(function () {
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.id === "macro-title") { ev.preventDefault(); }
  });
})();

// Attachments: each chosen or dropped file is uploaded at once (raw, to /uploads, with
// the form's CSRF token), shown as a chip with its progress and a remove button, and
// its token joins the form as a hidden "uploads" field. Images in the thread open in a
// simple lightbox.
(function () {
  "use strict";

  function size(n) {
    if (n < 1000) { return n + " B"; }
    if (n < 1000000) { return Math.round(n / 1000) + " KB"; }
    return (n / 1000000).toFixed(1) + " MB";
  }

  function token(form) {
    var f = form.querySelector('input[name="csrf_token"]');
    return f ? f.value : "";
  }

  function upload(box, file) {
    var form = box.closest("form");
    var list = box.querySelector("[data-attach-list]");
    var li = document.createElement("li");
    li.className = "attach-item";
    var name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.name;
    var state = document.createElement("span");
    state.className = "muted";
    state.textContent = size(file.size) + " · 0%";
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "btn btn-quiet attach-remove";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", "Remove " + file.name);
    li.append(name, " ", state, " ", remove);
    list.appendChild(li);

    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/uploads?filename=" + encodeURIComponent(file.name));
    xhr.setRequestHeader("X-CSRF-Token", token(form));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) { state.textContent = size(file.size) + " · " + Math.round(100 * ev.loaded / ev.total) + "%"; }
    };
    xhr.onload = function () {
      var res = {};
      try { res = JSON.parse(xhr.responseText); } catch (e) { res = {}; }
      if (xhr.status !== 200 || !res.token) {
        li.classList.add("attach-error");
        state.textContent = res.error || "upload failed";
        return;
      }
      state.textContent = size(res.size);
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "uploads";
      hidden.value = res.token;
      li.appendChild(hidden);
      li.setAttribute("data-token", res.token);
    };
    xhr.onerror = function () {
      li.classList.add("attach-error");
      state.textContent = "upload failed";
    };
    xhr.send(file);
    remove.addEventListener("click", function () {
      var t = li.getAttribute("data-token");
      if (t) {
        var del = new XMLHttpRequest();
        del.open("POST", "/uploads/" + encodeURIComponent(t) + "/delete");
        del.setRequestHeader("X-CSRF-Token", token(form));
        del.send();
      } else {
        xhr.abort();
      }
      li.remove();
    });
  }

  function uploadAll(box, files) {
    for (var i = 0; i < files.length; i++) { upload(box, files[i]); }
  }

  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (!input.matches || !input.matches("[data-attach-input]")) { return; }
    uploadAll(input.closest("[data-attach]"), input.files);
    input.value = "";
  });
  // Files dropped anywhere on a form with a picker, or pasted into it, are attached.
  document.addEventListener("dragover", function (ev) {
    var form = ev.target.closest && ev.target.closest("form");
    if (form && form.querySelector("[data-attach]")) { ev.preventDefault(); form.classList.add("dropping"); }
  });
  document.addEventListener("dragleave", function (ev) {
    var form = ev.target.closest && ev.target.closest("form");
    if (form) { form.classList.remove("dropping"); }
  });
  document.addEventListener("drop", function (ev) {
    var form = ev.target.closest && ev.target.closest("form");
    var box = form && form.querySelector("[data-attach]");
    if (!box || !ev.dataTransfer || !ev.dataTransfer.files.length) { return; }
    ev.preventDefault();
    form.classList.remove("dropping");
    uploadAll(box, ev.dataTransfer.files);
  });
  document.addEventListener("paste", function (ev) {
    var form = ev.target.closest && ev.target.closest("form");
    var box = form && form.querySelector("[data-attach]");
    if (box && ev.clipboardData && ev.clipboardData.files.length) {
      ev.preventDefault();
      uploadAll(box, ev.clipboardData.files);
    }
  });

  // Lightbox: an image link opens the full image over the page; a click or Escape
  // closes it.
  var shown = null;
  function close() {
    if (shown) { shown.remove(); shown = null; }
  }
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[data-lightbox]");
    if (shown && (!a || ev.target.closest(".lightbox"))) { close(); return; }
    if (!a) { return; }
    ev.preventDefault();
    shown = document.createElement("div");
    shown.className = "lightbox";
    shown.setAttribute("role", "dialog");
    shown.setAttribute("aria-label", a.title || "Image");
    var img = document.createElement("img");
    img.src = a.href;
    img.alt = a.title || "";
    shown.appendChild(img);
    document.body.appendChild(shown);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { close(); }
  });
})();
