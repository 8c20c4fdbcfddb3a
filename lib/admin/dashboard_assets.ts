/**
 * The dashboard's three files as admin-listener responses: the page at `/`
 * and `/dashboard`, `/dashboard.js` and `/dashboard.css`. Each carries a
 * Content-Security-Policy that allows only this origin (script and style
 * come as files, so no `unsafe-inline`), `nosniff`, and `no-store` (the
 * page and its script change with the lb's version).
 *
 * @module
 */

import { DASHBOARD_HTML } from "./dashboard_page.ts";
import { DASHBOARD_JS } from "./dashboard_script.ts";
import { DASHBOARD_CSS } from "./dashboard_style.ts";

/** The policy every dashboard file is served with. */
export const DASHBOARD_CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; " +
  "script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const FILES: Readonly<Record<string, { readonly type: string; readonly body: string }>> = {
  "/": { type: "text/html; charset=utf-8", body: DASHBOARD_HTML },
  "/dashboard": { type: "text/html; charset=utf-8", body: DASHBOARD_HTML },
  "/dashboard.js": { type: "text/javascript; charset=utf-8", body: DASHBOARD_JS },
  "/dashboard.css": { type: "text/css; charset=utf-8", body: DASHBOARD_CSS },
};

/** The response for a dashboard file's path, or undefined for any other path. */
export function dashboardAsset(path: string): Response | undefined {
  const file = FILES[path];
  if (!file) return undefined;
  return new Response(file.body, {
    headers: {
      "content-type": file.type,
      "content-security-policy": DASHBOARD_CSP,
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
    },
  });
}
