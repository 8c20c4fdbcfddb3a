/**
 * The dashboard page (`/`, `/dashboard`): semantic HTML with no inline
 * script or style, so the Content-Security-Policy needs no `unsafe-inline`;
 * the script (`dashboard_script.ts`) fills it in. A string constant, so
 * `deno compile` needs nothing extra and the page works offline.
 *
 * @module
 */

/** The page's HTML, served as is. */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lb dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the backends</a>
<header>
  <h1>lb dashboard</h1>
  <p id="summary">Connecting&hellip;</p>
  <p id="connection" class="visually-hidden" role="status"></p>
</header>
<main id="main" tabindex="-1">
  <section class="card" id="token-card" aria-labelledby="token-h">
    <h2 id="token-h">Admin actions</h2>
    <form id="token-form" class="token-row">
      <label for="token">Admin token</label>
      <input id="token" type="password" autocomplete="off" spellcheck="false" aria-describedby="token-state">
      <button type="submit">Use token</button>
      <button type="button" id="forget">Forget token</button>
    </form>
    <p id="token-state" class="hint"></p>
    <p id="result" class="result" role="status" aria-live="polite"></p>
  </section>
  <section aria-labelledby="totals-h">
    <h2 id="totals-h">Totals, last 5 minutes</h2>
    <div class="charts">
      <figure class="chart">
        <h3>Requests per second</h3>
        <svg id="chart-requests" role="img" aria-labelledby="chart-requests-title" preserveAspectRatio="none" focusable="false"><title id="chart-requests-title">Requests per second</title></svg>
        <figcaption id="chart-requests-caption"></figcaption>
      </figure>
      <figure class="chart">
        <h3>Failed attempts per second</h3>
        <svg id="chart-errors" role="img" aria-labelledby="chart-errors-title" preserveAspectRatio="none" focusable="false"><title id="chart-errors-title">Failed attempts per second</title></svg>
        <figcaption id="chart-errors-caption"></figcaption>
      </figure>
      <figure class="chart">
        <h3>Latency of the slowest backend (<span class="key-a">p50</span> <span class="key-b">p99</span>)</h3>
        <svg id="chart-latency" role="img" aria-labelledby="chart-latency-title" preserveAspectRatio="none" focusable="false"><title id="chart-latency-title">Latency of the slowest backend</title></svg>
        <figcaption id="chart-latency-caption"></figcaption>
      </figure>
    </div>
  </section>
  <section aria-labelledby="pools-h">
    <h2 id="pools-h">Pools and backends</h2>
    <div id="pools"></div>
    <p class="legend">States: <strong>up</strong> takes traffic; <strong>down</strong> failed its health checks
      (or refused a connection); <strong>ejected</strong> taken out for a while by outlier detection;
      <strong>draining</strong> takes no new requests and leaves once idle; <strong>maintenance</strong>
      taken out by hand. Requests/s and errors are over the last update interval (about a second):
      errors = attempts that failed before a response (connect errors, timeouts) ÷ attempts sent;
      a 5xx answer is a response, not an error here. p50 and p99 are response-header latency over
      each backend's last 1024 attempts.</p>
  </section>
  <section aria-labelledby="routes-h">
    <h2 id="routes-h">Routes</h2>
    <div id="routes"></div>
  </section>
  <section aria-labelledby="workers-h" id="workers-section" hidden>
    <h2 id="workers-h">Workers</h2>
    <div id="workers"></div>
  </section>
  <section aria-labelledby="events-h">
    <h2 id="events-h">Recent events</h2>
    <p class="hint">Health flips, ejections, backends joining and leaving, maintenance, weight changes and reloads; newest first (the lb keeps the last 100).</p>
    <ol id="events"></ol>
  </section>
</main>
<footer>
  <p id="footer-note"></p>
  <p>Live over one Server-Sent Events stream (<code>/dashboard/events</code>); the data is also at <a href="/status">/status</a> and <a href="/metrics">/metrics</a>.</p>
</footer>
</body>
</html>
`;
