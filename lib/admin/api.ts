/**
 * The admin API: JSON routes under `/api/` on the admin listener that list
 * the backends, add and remove them, change weights, and take one out for
 * maintenance by hand. Reads are open; mutations need the bearer token
 * (`--admin-token`), and without one the API is read-only. A request is
 * validated whole before the pool is touched, so a rejected one changes
 * nothing; each change is logged once and shows in `/status` and `/metrics`
 * at once, since those read the same pool.
 *
 * @module
 */

import { Problems } from "../config/cli.ts";
import type { BackendSpec } from "../core/backend_spec.ts";
import { parseBackends } from "../config/parse.ts";
import { log, type Logger } from "../core/logging.ts";
import type { Backend, Pool } from "../pool/pool.ts";
import { ApiError, bearerAuth, readObject, show } from "./request.ts";

export { MAX_BODY_BYTES, READ_ONLY_MESSAGE } from "./request.ts";

/** What the admin API reads and changes. */
export interface AdminApiOptions {
  readonly pool: Pool;
  /** Bearer token of the mutating routes; without one they answer 403. */
  readonly token?: string;
  /** Where each change is logged; `log("lb", "admin")` by default. */
  readonly logger?: Logger;
}

/** Answers a request under `/api/`, or returns undefined for any other path. */
export type AdminApi = (req: Request, path: string) => Promise<Response> | undefined;

/** A backend's state as the API and `/status` report it, most specific first. */
export type BackendState = "up" | "down" | "ejected" | "draining" | "maintenance";

/** Draining and maintenance outrank health: they say why a backend gets no traffic. */
export function backendState(b: Backend): BackendState {
  if (b.draining) return "draining";
  if (b.maintenance) return "maintenance";
  if (!b.up) return "down";
  return b.ejected ? "ejected" : "up";
}

/** One backend as the API shows it. */
export function backendView(b: Backend) {
  return {
    url: b.id,
    state: backendState(b),
    weight: b.weight,
    effectiveWeight: Math.round(b.effectiveWeight * 100) / 100,
    inFlight: b.inFlight,
    requests: b.requests,
    failures: b.failures,
    ejections: b.outlier.ejections,
    lastChange: new Date(b.lastChange).toISOString(),
    reason: b.reason,
  };
}

type Route =
  | { readonly kind: "backends" }
  | { readonly kind: "backend" | "weight" | "maintenance"; readonly origin: string };

const ALLOWED: Record<Route["kind"], readonly string[]> = {
  backends: ["GET", "HEAD", "POST"],
  backend: ["DELETE"],
  weight: ["PUT"],
  maintenance: ["POST", "DELETE"],
};

/** Creates the `/api/` handler; mount it ahead of the other admin routes. */
export function createAdminApi(options: AdminApiOptions): AdminApi {
  const ctx = { pool: options.pool, logger: options.logger ?? log("lb", "admin") };
  const authorize = bearerAuth(options.token);

  async function handle(req: Request, path: string): Promise<Response> {
    const route = matchRoute(path);
    if (!route) throw new ApiError(404, `no route ${path} (try GET /api/backends)`);
    const allowed = ALLOWED[route.kind];
    if (!allowed.includes(req.method)) {
      throw new ApiError(
        405,
        `${req.method} is not allowed on ${path} (allowed: ${allowed.join(", ")})`,
        {
          allow: allowed.join(", "),
        },
      );
    }
    if (req.method === "GET" || req.method === "HEAD") {
      return json(200, { backends: ctx.pool.backends.map(backendView) });
    }
    // Before the body is read: an unauthenticated client gets nothing parsed.
    await authorize(req);
    switch (route.kind) {
      case "backends":
        return addBackend(ctx, parseAdd(await readObject(req, ["url", "weight"])));
      case "backend":
        return removeBackend(ctx, route.origin);
      case "weight":
        return setWeight(ctx, route.origin, parseWeightChange(await readObject(req, ["weight"])));
      case "maintenance":
        return setMaintenance(ctx, route.origin, req.method === "POST");
    }
  }

  return (req, path) => {
    if (path !== "/api" && !path.startsWith("/api/")) return undefined;
    return handle(req, path).catch((err) => {
      if (!(err instanceof ApiError)) throw err;
      return json(err.status, { error: err.message }, err.headers);
    });
  };
}

/** What the mutations act on. */
interface Context {
  readonly pool: Pool;
  readonly logger: Logger;
}

function addBackend({ pool, logger }: Context, spec: BackendSpec): Response {
  const existing = pool.find(spec.origin);
  // A draining backend may come back: the pool replaces it with a fresh member.
  if (existing && !existing.draining) {
    const state = backendState(existing);
    throw new ApiError(409, `backend ${spec.origin} is already in the pool (state ${state})`);
  }
  // Never traffic to an address typed by hand before it has answered a probe.
  const b = pool.add(spec, { awaitCheck: true })!;
  logger.info("added {backend} with weight {weight}; it takes traffic after a health check", {
    backend: b.id,
    weight: b.weight,
  });
  return json(201, backendView(b), { location: `/api/backends/${encodeURIComponent(b.id)}` });
}

function removeBackend({ pool, logger }: Context, origin: string): Response {
  const b = lookup(pool, origin);
  // Idempotent: a second DELETE of a draining backend reports the same drain.
  if (!b.draining) {
    pool.remove(b.id);
    logger.info("draining {backend}: no new requests; it leaves once {inFlight} in flight finish", {
      backend: b.id,
      inFlight: b.inFlight,
    });
  }
  return json(202, { url: b.id, draining: true });
}

function setWeight({ pool, logger }: Context, origin: string, weight: number): Response {
  const b = lookupActive(pool, origin);
  const from = b.weight;
  if (from !== weight) {
    pool.setWeight(b.id, weight);
    logger.info("weight of {backend} changed from {from} to {to}", {
      backend: b.id,
      from,
      to: weight,
    });
  }
  return json(200, backendView(b));
}

function setMaintenance({ pool, logger }: Context, origin: string, on: boolean): Response {
  const b = lookupActive(pool, origin);
  if (b.maintenance !== on) {
    pool.setMaintenance(b.id, on);
    if (on) logger.info("{backend} taken out for maintenance", { backend: b.id });
    else logger.info("{backend} back from maintenance", { backend: b.id });
  }
  return json(200, backendView(b));
}

/** The backend a path names, as given or in canonical form (`LOCALHOST:80` finds `http://localhost`). */
function lookup(pool: Pool, origin: string): Backend {
  const b = pool.find(origin) ?? pool.find(canonical(origin) ?? "");
  if (!b) throw new ApiError(404, `no backend ${show(origin)} (GET /api/backends lists them)`);
  return b;
}

/** A backend that can still be changed: not draining. */
function lookupActive(pool: Pool, origin: string): Backend {
  const b = lookup(pool, origin);
  if (b.draining) throw new ApiError(409, `backend ${b.id} is draining and leaves the pool soon`);
  return b;
}

/**
 * `/api/backends`, `/api/backends/{origin}` and its `/weight` and
 * `/maintenance`. The origin is one percent-encoded segment, or an
 * unencoded `http://host:port` as curl users type it.
 */
function matchRoute(path: string): Route | undefined {
  if (path === "/api/backends") return { kind: "backends" };
  const m = /^\/api\/backends\/(http:\/\/[^/]+|[^/]+)(?:\/(weight|maintenance))?$/.exec(path);
  if (!m) return undefined;
  let origin: string;
  try {
    origin = decodeURIComponent(m[1]);
  } catch {
    throw new ApiError(400, `backend ${show(m[1])} in the path is not valid percent-encoding`);
  }
  return { kind: (m[2] ?? "backend") as "backend" | "weight" | "maintenance", origin };
}

function canonical(origin: string): string | undefined {
  if (/[,=]/.test(origin)) return undefined;
  const p = new Problems();
  const [spec] = parseBackends(p, origin);
  return p.list.length === 0 ? spec?.origin : undefined;
}

/**
 * The body of `POST /api/backends`. Checks `url` and `weight` together, so a
 * client sees every problem at once; throws a 400 naming each field and its
 * bad value.
 */
function parseAdd(body: Record<string, unknown>): BackendSpec {
  const problems: string[] = [];
  const { url } = body;
  let spec: BackendSpec | undefined;
  if (typeof url !== "string" || url.trim() === "") {
    problems.push(`"url" must be an http origin like "http://127.0.0.1:8081" (got ${show(url)})`);
  } else if (/[,=]/.test(url)) {
    // To --backends these mean a list and a weight; here they'd slip past the one-origin rule.
    problems.push(`"url" ${show(url)} is not an http origin (expected http://host:port)`);
  } else {
    // The rules of --backends, so the API accepts exactly what the command line does.
    const p = new Problems();
    [spec] = parseBackends(p, url);
    if (p.list.length > 0) problems.push(`"url" ${p.list[0].replace(/^--backends: /, "")}`);
  }
  const weight = body.weight === undefined ? 1 : checkWeight(body.weight, problems);
  if (problems.length > 0 || !spec) throw new ApiError(400, problems.join("; "));
  return { ...spec, weight };
}

/** The body of `PUT /api/backends/{origin}/weight`. */
function parseWeightChange(body: Record<string, unknown>): number {
  const problems: string[] = [];
  const weight = checkWeight(body.weight, problems);
  if (problems.length > 0) throw new ApiError(400, problems[0]);
  return weight;
}

function checkWeight(w: unknown, problems: string[]): number {
  if (typeof w === "number" && Number.isInteger(w) && w >= 1 && w <= 1000) return w;
  problems.push(`"weight" must be a whole number from 1 to 1000 (got ${show(w)})`);
  return 1;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}
