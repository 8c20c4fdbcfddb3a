/**
 * The dashboard's script (`/dashboard.js`): one `EventSource` on
 * `/dashboard/events`, rows updated in place (so focus and typing survive
 * updates), the DOM built with `textContent` only, and the admin token kept
 * in a closure variable, never in storage or cookies. Plain ES2017 with no
 * build step.
 *
 * @module
 */

/** The script, served as is. */
export const DASHBOARD_JS = String.raw`"use strict";
// The lb dashboard: one EventSource for the data, fetch() to the admin API
// for actions. The DOM is built with textContent only: backend URLs and
// reasons come from configuration and the network.
(function () {
  var WINDOW_MS = 5 * 60 * 1000;
  var MAX_EVENTS = 100;
  // The SVG namespace comes from the page's own <svg> elements (the HTML
  // parser puts them in it), so no URL appears in this script.
  var SVG = "";
  var token = ""; // Kept in this closure only: never in storage or cookies.
  var state = null;
  var history = [];
  var events = [];
  var lastSeq = 0;
  var pools = new Map(); // pool name -> { section, tbody, caption, rows: Map }
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function fmt(n, digits) {
    if (n === null || n === undefined) return "\u2013";
    return Number(n).toFixed(digits === undefined ? 1 : digits);
  }
  function pct(r) { return r === null || r === undefined ? "\u2013" : (r * 100).toFixed(1) + " %"; }
  function ms(n) { return n === null || n === undefined ? "\u2013" : fmt(n, n < 10 ? 2 : 1) + " ms"; }
  function clock(t) { return new Date(t).toLocaleTimeString([], { hour12: false }); }
  function ago(iso, now) {
    var s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
    if (s < 90) return s + " s ago";
    if (s < 5400) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }

  // --- the token and the actions -------------------------------------------
  function showResult(ok, text) {
    var out = $("result");
    out.textContent = text;
    out.className = ok ? "result ok" : "result error";
  }
  function tokenChanged() {
    $("token-state").textContent = token
      ? "Token set for this page (kept in memory only; reloading the page forgets it)."
      : "Actions need the admin token. It is kept in this page's memory only, never stored.";
    $("forget").disabled = !token;
    document.body.classList.toggle("has-token", !!token);
  }
  function backendPath(pool, url, sub) {
    return "/api/pools/" + encodeURIComponent(pool) + "/backends/" + encodeURIComponent(url) +
      (sub ? "/" + sub : "");
  }
  function act(what, method, path, body) {
    if (!token) {
      showResult(false, what + ": enter the admin token first.");
      $("token").focus();
      return;
    }
    var headers = { authorization: "Bearer " + token };
    if (body !== undefined) headers["content-type"] = "application/json";
    showResult(true, what + ": sending\u2026");
    fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = JSON.parse(text); } catch (_) { /* not JSON */ }
        if (res.ok) showResult(true, what + ": done (" + res.status + ").");
        else showResult(false, what + ": refused (" + res.status + "): " +
          (data && data.error ? data.error : text || res.statusText));
      });
    }).catch(function (err) {
      showResult(false, what + ": failed: " + err.message);
    });
  }

  // --- backends tables -----------------------------------------------------
  var COLUMNS = ["Backend", "State", "Last change", "Weight (effective)", "In flight",
    "Requests/s", "Errors", "p50", "p99", "Actions"];

  function poolSection(name) {
    var entry = pools.get(name);
    if (entry) return entry;
    var section = el("section", { class: "pool", "aria-label": "Pool " + name });
    var wrap = el("div", { class: "table-wrap" });
    var table = el("table", { class: "backends" });
    var caption = el("caption");
    var thead = el("thead");
    var tr = el("tr");
    COLUMNS.forEach(function (c) { tr.append(el("th", { scope: "col" }, c)); });
    thead.append(tr);
    var tbody = el("tbody");
    table.append(caption, thead, tbody);
    wrap.append(table);
    section.append(wrap);
    $("pools").append(section);
    entry = { section: section, caption: caption, tbody: tbody, rows: new Map() };
    pools.set(name, entry);
    return entry;
  }

  function backendRow(pool, b) {
    var tr = el("tr", { "data-url": b.url });
    var th = el("th", { scope: "row", "data-label": "Backend" });
    tr.append(th);
    var cells = {};
    COLUMNS.slice(1).forEach(function (c) {
      var td = el("td", { "data-label": c });
      cells[c] = td;
      tr.append(td);
    });
    var label = b.url + " in pool " + pool;
    var drain = el("button", { type: "button", class: "drain", "aria-label": "Drain " + label }, "Drain");
    drain.addEventListener("click", function () {
      if (!window.confirm("Drain " + label + "? It takes no new requests and leaves the pool.")) return;
      act("Drain " + label, "DELETE", backendPath(pool, b.url));
    });
    var maint = el("button", { type: "button", class: "maintenance" });
    maint.addEventListener("click", function () {
      var on = maint.getAttribute("data-on") !== "true";
      act((on ? "Maintenance on for " : "Maintenance off for ") + label,
        on ? "POST" : "DELETE", backendPath(pool, b.url, "maintenance"));
    });
    var form = el("form", { class: "weight" });
    var id = "w-" + Math.random().toString(36).slice(2);
    var wl = el("label", { for: id, class: "visually-hidden" }, "New weight for " + label);
    // No min/max here: the API checks the value and its error text is shown.
    var input = el("input", { id: id, type: "number", inputmode: "numeric", required: "" });
    var set = el("button", { type: "submit", "aria-label": "Set weight of " + label }, "Set weight");
    form.append(wl, input, set);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      act("Weight " + input.value + " for " + label, "PUT", backendPath(pool, b.url, "weight"),
        { weight: Number(input.value) });
    });
    var actions = el("div", { class: "actions" });
    actions.append(drain, maint, form);
    cells.Actions.append(actions);
    return { tr: tr, th: th, cells: cells, drain: drain, maint: maint, input: input, set: set };
  }

  function updateRow(row, b, now) {
    row.th.textContent = b.url;
    var st = row.cells.State;
    st.textContent = "";
    st.append(el("span", { class: "state state-" + b.state }, b.state));
    var lc = row.cells["Last change"];
    lc.textContent = "";
    var t = el("time", { datetime: b.lastChange, title: new Date(b.lastChange).toLocaleString() },
      ago(b.lastChange, now));
    lc.append(t, el("span", { class: "reason" }, b.reason));
    row.cells["Weight (effective)"].textContent = b.weight +
      (b.effectiveWeight !== b.weight ? " (" + fmt(b.effectiveWeight, 2) + ")" : "");
    row.cells["In flight"].textContent = String(b.inFlight);
    row.cells["Requests/s"].textContent = fmt(b.requestsPerSecond);
    row.cells.Errors.textContent = pct(b.errorRate);
    row.cells.p50.textContent = ms(b.latencyMs.p50);
    row.cells.p99.textContent = ms(b.latencyMs.p99);
    var draining = b.state === "draining";
    row.drain.disabled = draining;
    row.maint.disabled = draining;
    row.set.disabled = draining;
    row.input.disabled = draining;
    var on = b.state === "maintenance";
    row.maint.setAttribute("data-on", on ? "true" : "false");
    row.maint.setAttribute("aria-pressed", on ? "true" : "false");
    row.maint.textContent = on ? "End maintenance" : "Maintenance";
    if (document.activeElement !== row.input && row.input.value === "") {
      row.input.placeholder = String(b.weight);
    }
    row.tr.className = "row-" + b.state;
  }

  function renderPools(s) {
    var seen = new Set();
    s.pools.forEach(function (p) {
      seen.add(p.name);
      var entry = poolSection(p.name);
      $("pools").append(entry.section); // keeps config order
      entry.caption.textContent = "Pool " + p.name + " \u2014 " + p.strategy + ", " + p.healthy +
        " of " + p.backends.length + " taking traffic";
      var urls = new Set();
      p.backends.forEach(function (b) {
        urls.add(b.url);
        var row = entry.rows.get(b.url);
        if (!row) {
          row = backendRow(p.name, b);
          entry.rows.set(b.url, row);
        }
        entry.tbody.append(row.tr);
        updateRow(row, b, s.at);
      });
      entry.rows.forEach(function (row, url) {
        if (!urls.has(url)) { row.tr.remove(); entry.rows.delete(url); }
      });
    });
    pools.forEach(function (entry, name) {
      if (!seen.has(name)) { entry.section.remove(); pools.delete(name); }
    });
    document.body.classList.toggle("read-only", !s.actions);
  }

  // --- routes and workers --------------------------------------------------
  function table(captionText, columns, rows) {
    var t = el("table");
    t.append(el("caption", null, captionText));
    var head = el("tr");
    columns.forEach(function (c) { head.append(el("th", { scope: "col" }, c)); });
    var thead = el("thead");
    thead.append(head);
    var tbody = el("tbody");
    rows.forEach(function (cells) {
      var tr = el("tr");
      cells.forEach(function (c, i) {
        tr.append(i === 0 ? el("th", { scope: "row", "data-label": columns[i] }, c)
          : el("td", { "data-label": columns[i] }, c));
      });
      tbody.append(tr);
    });
    t.append(thead, tbody);
    var wrap = el("div", { class: "table-wrap" });
    wrap.append(t);
    return wrap;
  }
  function describeMatch(m) {
    var parts = [];
    for (var k in m) parts.push(k + " " + (Array.isArray(m[k]) ? m[k].join(", ") : String(m[k])));
    return parts.length ? parts.join("; ") : "everything";
  }
  function describeTarget(t) {
    if (t.kind === "pool") return t.pool;
    return t.weights.map(function (w) { return w.pool + " ×" + w.weight; }).join(", ");
  }
  var routesKey = "";
  function renderRoutes(s) {
    var key = JSON.stringify(s.routes);
    if (key === routesKey) return;
    routesKey = key;
    var rows = s.routes.map(function (r) {
      return [r.name, describeMatch(r.match), describeTarget(r.target), r.mirror || "\u2013",
        r.policies ? Object.keys(r.policies).join(", ") : "\u2013"];
    });
    var box = $("routes");
    box.textContent = "";
    if (rows.length === 0) box.append(el("p", null, "No routes: every request goes to the only pool."));
    else box.append(table("Routes in match order", ["Route", "Match", "Pool", "Mirror", "Policies"], rows));
  }
  function renderWorkers(s) {
    var several = s.workers.length > 1 || (s.workers[0] && s.workers[0].id !== 0);
    $("workers-section").hidden = !several;
    if (!several) return;
    var rows = s.workers.map(function (w) {
      return ["worker " + w.id, w.state, String(w.requests), String(w.restarts),
        w.heapMiB ? fmt(w.heapMiB.used) + " MiB" : "\u2013", clock(Date.parse(w.startedAt))];
    });
    var box = $("workers");
    box.textContent = "";
    box.append(table("Worker threads serving traffic",
      ["Worker", "State", "Requests", "Restarts", "Heap used", "Started"], rows));
  }

  // --- charts ----------------------------------------------------------------
  var CHARTS = [
    { id: "requests", title: "Requests per second", lines: [["requestsPerSecond", "req/s", "line-a"]] },
    { id: "errors", title: "Failed attempts per second", lines: [["errorsPerSecond", "errors/s", "line-err"]] },
    { id: "latency", title: "Latency of the slowest backend",
      lines: [["p50Ms", "p50 ms", "line-a"], ["p99Ms", "p99 ms", "line-b"]] },
  ];
  var W = 300, H = 80;
  function setupCharts() {
    CHARTS.forEach(function (c) {
      var svg = $("chart-" + c.id);
      SVG = svg.namespaceURI;
      svg.setAttribute("viewBox", "0 0 " + W + " " + H);
      svg.append(svgEl("line", { x1: "0", y1: String(H - 0.5), x2: String(W), y2: String(H - 0.5), class: "axis" }));
      c.polys = c.lines.map(function (l) {
        var p = svgEl("polyline", { class: l[2], points: "" });
        svg.append(p);
        return p;
      });
      c.titleEl = $("chart-" + c.id + "-title");
      c.caption = $("chart-" + c.id + "-caption");
    });
  }
  function renderCharts() {
    var end = state ? state.at : Date.now();
    // The last 5 minutes, or less (at least 15 s) while the lb has not run that long.
    var start = Math.max(end - WINDOW_MS, Math.min(history.length ? history[0].at : end, end - 15000));
    var span = end - start;
    var pts = history.filter(function (p) { return p.at >= start; });
    CHARTS.forEach(function (c) {
      var max = 0;
      c.lines.forEach(function (l) {
        pts.forEach(function (p) { if (p[l[0]] !== null && p[l[0]] > max) max = p[l[0]]; });
      });
      var top = max > 0 ? max * 1.1 : 1;
      c.lines.forEach(function (l, i) {
        var coords = [];
        pts.forEach(function (p) {
          if (p[l[0]] === null) return;
          var x = (p.at - start) / span * W;
          var y = H - 1 - (p[l[0]] / top) * (H - 4);
          coords.push(x.toFixed(1) + "," + y.toFixed(1));
        });
        c.polys[i].setAttribute("points", coords.join(" "));
      });
      var last = pts[pts.length - 1];
      var latest = c.lines.map(function (l) {
        return l[1] + " " + (last ? fmt(last[l[0]], 2) : "\u2013");
      }).join(", ");
      var minutes = Math.round(span / 6000) / 10;
      var text = c.title + ", last " + minutes + " minutes: now " + latest + "; highest " +
        fmt(max, 2) + " (" + pts.length + " samples)";
      c.titleEl.textContent = text;
      c.caption.textContent = "Now " + latest + " · highest " + fmt(max, 2) + " · last " +
        minutes + " min";
    });
  }

  // --- events ----------------------------------------------------------------
  function renderEvents() {
    var list = $("events");
    list.textContent = "";
    if (events.length === 0) {
      list.append(el("li", { class: "empty" }, "Nothing yet: health flips, ejections and reloads appear here."));
      return;
    }
    for (var i = events.length - 1; i >= 0; i--) {
      var e = events[i];
      var li = el("li");
      li.append(el("time", { datetime: new Date(e.at).toISOString() }, clock(e.at)), " ",
        el("span", { class: "kind kind-" + e.kind }, e.kind), " ");
      if (e.pool) li.append(el("span", { class: "where" }, e.pool + (e.backend ? " / " + e.backend : "")), " ");
      li.append(el("span", { class: "detail" }, e.detail));
      list.append(li);
    }
  }

  // --- the stream ------------------------------------------------------------
  function renderSummary(s) {
    $("summary").textContent = "Live · lb " + s.version + " · up " + Math.round(s.uptimeSeconds / 60) +
      " min · " + (s.shuttingDown ? "shutting down" : s.ready ? "ready" : "not ready") +
      " · updated " + clock(s.at);
    $("footer-note").textContent = "Main thread heap in use: " + fmt(s.heapUsedMiB) + " MiB.";
  }
  function apply(msg, full) {
    state = msg.state;
    if (full) { history = msg.history.slice(); events = []; lastSeq = 0; }
    else {
      msg.history.forEach(function (p) {
        if (history.length === 0 || p.at > history[history.length - 1].at) history.push(p);
      });
    }
    var start = state.at - WINDOW_MS;
    while (history.length && history[0].at < start) history.shift();
    var added = false;
    msg.events.forEach(function (e) {
      if (e.seq > lastSeq) { events.push(e); lastSeq = e.seq; added = true; }
    });
    if (events.length > MAX_EVENTS) events = events.slice(events.length - MAX_EVENTS);
    renderSummary(state);
    renderPools(state);
    renderRoutes(state);
    renderWorkers(state);
    renderCharts();
    if (added || full) renderEvents();
    document.body.setAttribute("data-live", "true");
  }
  // Announced only when the connection changes, not on every update.
  function announce(text) {
    if ($("connection").textContent !== text) $("connection").textContent = text;
  }
  function connect() {
    var es = new EventSource("/dashboard/events");
    es.addEventListener("snapshot", function (e) { apply(JSON.parse(e.data), true); });
    es.addEventListener("update", function (e) { apply(JSON.parse(e.data), false); });
    es.addEventListener("open", function () {
      $("summary").textContent = "Connected; waiting for data\u2026";
      announce("Live updates connected.");
    });
    es.addEventListener("error", function () {
      document.body.setAttribute("data-live", "false");
      var text = es.readyState === EventSource.CLOSED
        ? "Disconnected (the lb refused the stream); reload the page to try again."
        : "Connection lost; reconnecting\u2026";
      $("summary").textContent = text;
      announce(text);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("token-form").addEventListener("submit", function (e) {
      e.preventDefault();
      token = $("token").value.trim();
      $("token").value = "";
      tokenChanged();
      showResult(true, token ? "Token set." : "No token entered.");
    });
    $("forget").addEventListener("click", function () {
      token = "";
      tokenChanged();
      showResult(true, "Token forgotten.");
    });
    tokenChanged();
    setupCharts();
    renderEvents();
    connect();
  });
})();
`;
