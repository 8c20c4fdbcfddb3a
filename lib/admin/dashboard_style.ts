/**
 * The dashboard's stylesheet (`/dashboard.css`): light and dark schemes,
 * visible focus, tables that become one card per backend on a phone.
 *
 * @module
 */

/** The stylesheet, served as is. */
export const DASHBOARD_CSS = String.raw`:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #16181d; --muted: #5a6270; --card: #fff; --line: #d7dbe2;
  --up: #17663a; --up-bg: #dcf3e4; --down: #a1151b; --down-bg: #fde2e2;
  --warn: #7a4b00; --warn-bg: #fdf0cf; --info: #1f4e99; --info-bg: #e1ebfb;
  --accent: #1f5fbf; --accent2: #b3541e; --focus: #ffbf47;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #121417; --fg: #e7e9ee; --muted: #a3abb8; --card: #1c1f24; --line: #343a44;
    --up: #7fdca0; --up-bg: #173325; --down: #ff9b9b; --down-bg: #3d1b1d;
    --warn: #f5c66b; --warn-bg: #3a2d12; --info: #9cc1ff; --info-bg: #1b2a44;
    --accent: #78a9ff; --accent2: #ffad7a;
  }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background: var(--bg); color: var(--fg); }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem 1rem; }
.skip:focus { left: .5rem; z-index: 10; }
header, main, footer { max-width: 1400px; margin: 0 auto; padding: 0 1rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1.5rem; padding-top: .75rem; }
h1 { font-size: 1.4rem; margin: .25rem 0; }
h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
h3 { font-size: .95rem; margin: 0 0 .25rem; font-weight: 600; }
#summary { margin: 0; color: var(--muted); }
body[data-live="true"] #summary::before { content: "\25CF\20"; color: var(--up); }
body[data-live="false"] #summary::before { content: "\25CF\20"; color: var(--down); }
section.card, .pool, .chart { background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
section.card { padding: .25rem 1rem 1rem; margin-top: 1rem; }
.token-row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.token-row label { font-weight: 600; }
input, button { font: inherit; color: inherit; }
input { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .35rem .5rem; min-height: 2.25rem; }
input[type="number"] { width: 4.5rem; }
button { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: .35rem .7rem; min-height: 2.25rem; cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: .45; cursor: not-allowed; }
button.drain { color: var(--down); }
button[aria-pressed="true"] { background: var(--warn-bg); color: var(--warn); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.hint { color: var(--muted); margin: .5rem 0 0; font-size: .9rem; }
.result { margin: .5rem 0 0; min-height: 1.4em; font-weight: 600; }
.result.ok { color: var(--up); }
.result.error { color: var(--down); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: .75rem; }
.chart { margin: 0; padding: .6rem .75rem; }
.chart svg { display: block; width: 100%; height: 90px; }
.chart figcaption { color: var(--muted); font-size: .85rem; }
.axis { stroke: var(--line); stroke-width: 1; }
polyline { fill: none; stroke-width: 1.8; vector-effect: non-scaling-stroke; stroke-linejoin: round; }
.line-a { stroke: var(--accent); }
.line-b { stroke: var(--accent2); }
.line-err { stroke: var(--down); }
.key-a::before, .key-b::before { content: ""; display: inline-block; width: .8em; height: .25em;
  vertical-align: middle; margin-right: .3em; }
.key-a::before { background: var(--accent); }
.key-b::before { background: var(--accent2); }
.pool { margin-bottom: .75rem; overflow: hidden; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .6rem .75rem; }
th, td { text-align: left; padding: .4rem .45rem; border-top: 1px solid var(--line); vertical-align: top; }
thead th { font-size: .75rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); white-space: normal; }
tbody th { font-weight: 600; white-space: nowrap; }
td { white-space: nowrap; }
td[data-label="Last change"] { white-space: normal; min-width: 8rem; }
td[data-label="Actions"] { white-space: normal; min-width: 12.5rem; }
.actions button { padding: .3rem .55rem; }
td { font-variant-numeric: tabular-nums; }
.reason { display: block; color: var(--muted); font-size: .85rem; max-width: 26rem; overflow-wrap: anywhere; }
.state, .kind { display: inline-block; border-radius: 999px; padding: 0 .55rem; font-size: .85rem; font-weight: 600; }
.state-up, .kind-up, .kind-added, .kind-reload, .kind-ejection-ended, .kind-maintenance-off { background: var(--up-bg); color: var(--up); }
.state-down, .kind-down, .kind-reload-failed, .kind-removed { background: var(--down-bg); color: var(--down); }
.state-ejected, .kind-ejected, .state-maintenance, .kind-maintenance-on { background: var(--warn-bg); color: var(--warn); }
.state-draining, .kind-draining, .kind-weight { background: var(--info-bg); color: var(--info); }
.actions { display: flex; flex-wrap: wrap; gap: .35rem; align-items: center; }
.actions form { display: flex; gap: .35rem; }
body.read-only .actions, body.read-only #token-card { display: none; }
body.read-only thead th:last-child { display: none; }
.legend { color: var(--muted); font-size: .85rem; }
#events { list-style: none; padding: 0; margin: 0; max-height: 28rem; overflow-y: auto; }
#events li { padding: .35rem 0; border-top: 1px solid var(--line); overflow-wrap: anywhere; }
#events time { font-variant-numeric: tabular-nums; color: var(--muted); }
.where { font-weight: 600; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
footer { color: var(--muted); font-size: .85rem; padding-bottom: 2rem; }
@media (max-width: 760px) {
  body { font-size: 16px; }
  table.backends thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.backends, table.backends tbody, table.backends tr, table.backends th, table.backends td { display: block; width: 100%; }
  table.backends caption { display: block; }
  table.backends tr { border-top: 2px solid var(--line); padding: .4rem 0; }
  table.backends th, table.backends td { border: 0; padding: .2rem .75rem; white-space: normal; overflow-wrap: anywhere; min-width: 0; }
  table.backends td::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
  body.read-only table.backends td:last-child { display: none; }
}
@media (prefers-reduced-motion: reduce) { * { scroll-behavior: auto !important; } }
`;
