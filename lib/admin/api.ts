/**
 * The admin API: JSON routes under `/api/` on the admin listener that list
 * the pools and their backends, add and remove backends, change weights,
 * and take one out for maintenance by hand. A backend is addressed within
 * its pool (`/api/pools/{pool}/backends/{origin}`; the paths are in
 * `api_routes.ts`). Reads are open; mutations need the bearer token
 * (`--admin-token`), and without one the API is read-only. A request is
 * validated whole before a pool is touched, so a rejected one changes
 * nothing; each change is logged once, naming the pool, and shows in
 * `/status` and `/metrics` at once, since those read the same pools.
 *
 * @module
 */

import type { BackendSpec } from "../core/backend_spec.ts";
import { log, type Logger } from "../core/logging.ts";
import type { Backend, Pool } from "../pool/pool.ts";
import { canonical, parseAdd, parseWeightChange } from "./api_body.ts";
import {
  ALLOWED,
  LIST_PATH,
  matchRoute,
  resolvePool,
  type Scope,
  WORKERS_PATH,
} from "./api_routes.ts";
import { ApiError, bearerAuth, readObject, show } from "./request.ts";
import type { AdminPools, TrafficReport, WorkerControl } from "./types.ts";
import { backendState, type BackendView, backendView, poolView } from "./views.ts";

export { MAX_BODY_BYTES, READ_ONLY_MESSAGE } from "./request.ts";
// One definition of the state word and the backend view, shared with `/status`.
export { type BackendState, backendState, backendView } from "./views.ts";

/** What the admin API reads and changes. */
export interface AdminApiOptions {
  /** The pools of the current generation, in config order; read on every request. */
  readonly pools: AdminPools;
  /** Bearer token of the mutating routes; without one they answer 403. */
  readonly token?: string;
  /** Where each change is logged; `log("lb", "admin")` by default. */
  readonly logger?: Logger;
  /** The worker threads, with `--workers`; without, `DELETE /api/workers/{id}` finds none. */
  readonly workers?: WorkerControl;
}

/**
 * Answers a request under `/api/`, or returns undefined for any other path;
 * `report` gives the backends' traffic over every thread.
 */
export type AdminApi = (
  req: Request,
  path: string,
  report: () => Promise<TrafficReport>,
) => Promise<Response> | undefined;

/** Creates the `/api/` handler; mount it ahead of the other admin routes. */
export function createAdminApi(options: AdminApiOptions): AdminApi {
  const logger = options.logger ?? log("lb", "admin");
  const authorize = bearerAuth(options.token);

  async function handle(
    req: Request,
    path: string,
    gather: () => Promise<TrafficReport>,
  ): Promise<Response> {
    const route = matchRoute(path);
    if (!route) throw new ApiError(404, `no route ${path} (try GET ${LIST_PATH})`);
    if (route.kind === "workers" || route.kind === "worker") {
      checkMethod(req, path, route.kind);
      if (route.kind === "workers") return json(200, { workers: (await gather()).workers });
      await authorize(req);
      return killWorker(options, logger, route.id);
    }
    const pools = options.pools();
    const report = await gather();
    if (route.kind === "pools") {
      checkMethod(req, path, route.kind);
      return json(200, { pools: pools.map((p) => poolView(p, report)) });
    }
    // An unknown pool is 404 whatever the method: the path names nothing.
    const scope = resolvePool(pools, route.pool, path);
    checkMethod(req, path, route.kind);
    const { pool } = scope.entry;
    const show = (b: Backend) => backendView(b, report.traffic(pool.name, b));
    if (req.method === "GET" || req.method === "HEAD") {
      if (route.kind === "pool") return json(200, poolView(scope.entry, report));
      if (route.kind === "backend") return json(200, show(lookup(scope, route.origin)));
      return json(200, { pool: pool.name, backends: pool.backends.map(show) });
    }
    // Before the body is read: an unauthenticated client gets nothing parsed.
    await authorize(req);
    const ctx: Context = { ...scope, pool, logger, show };
    switch (route.kind) {
      case "backends":
        return addBackend(ctx, parseAdd(await readObject(req, ["url", "weight"])));
      case "backend":
        return removeBackend(ctx, route.origin);
      case "weight":
        return setWeight(ctx, route.origin, parseWeightChange(await readObject(req, ["weight"])));
      case "maintenance":
        return setMaintenance(ctx, route.origin, req.method === "POST");
      case "pool":
        // Unreachable: checkMethod lets only GET and HEAD through here.
        throw new Error(`${req.method} passed the method check on ${path}`);
    }
  }

  return (req, path, report) => {
    if (path !== "/api" && !path.startsWith("/api/")) return undefined;
    return handle(req, path, report).catch((err) => {
      if (!(err instanceof ApiError)) throw err;
      return json(err.status, { error: err.message }, err.headers);
    });
  };
}

/** Throws the 405, with `Allow`, of a method the path does not answer. */
function checkMethod(req: Request, path: string, kind: keyof typeof ALLOWED): void {
  const allowed = ALLOWED[kind];
  if (allowed.includes(req.method)) return;
  throw new ApiError(
    405,
    `${req.method} is not allowed on ${path} (allowed: ${allowed.join(", ")})`,
    { allow: allowed.join(", ") },
  );
}

/** What a mutation acts on: one pool, the path of its backend list, and the change log. */
interface Context extends Scope {
  readonly pool: Pool;
  readonly logger: Logger;
  /** The API's view of one of its backends. */
  readonly show: (b: Backend) => BackendView;
}

/** `DELETE /api/workers/{id}`: ends the worker at once, as `kill -9` would; it is replaced. */
function killWorker(options: AdminApiOptions, logger: Logger, id: string): Response {
  const n = /^[1-9][0-9]{0,2}$/.test(id) ? Number(id) : NaN;
  if (!options.workers?.kill(n)) {
    throw new ApiError(404, `no worker ${show(id)} (GET ${WORKERS_PATH} lists them)`);
  }
  logger.warning("worker {worker} killed by the admin API; it is being replaced", { worker: n });
  return json(202, { worker: n, state: "restarting" });
}

function addBackend(ctx: Context, spec: BackendSpec): Response {
  const { pool, logger } = ctx;
  const existing = pool.find(spec.origin);
  // A draining backend may come back: the pool replaces it with a fresh member.
  if (existing && !existing.draining) {
    const state = backendState(existing);
    throw new ApiError(
      409,
      `backend ${spec.origin} is already in pool ${show(pool.name)} (state ${state})`,
    );
  }
  // Never traffic to an address typed by hand before it has answered a probe.
  const b = pool.add(spec, { awaitCheck: true })!;
  logger.info(
    "pool {pool}: added {backend} with weight {weight}; it takes traffic after a health check",
    { pool: pool.name, backend: b.id, weight: b.weight },
  );
  return json(201, ctx.show(b), { location: `${ctx.base}/${encodeURIComponent(b.id)}` });
}

function removeBackend(ctx: Context, origin: string): Response {
  const { pool, logger } = ctx;
  const b = lookup(ctx, origin);
  // Idempotent: a second DELETE of a draining backend reports the same drain.
  if (!b.draining) {
    pool.remove(b.id);
    logger.info(
      "pool {pool}: draining {backend}: no new requests; it leaves once {inFlight} in flight finish",
      { pool: pool.name, backend: b.id, inFlight: b.inFlight },
    );
  }
  return json(202, { url: b.id, draining: true });
}

function setWeight(ctx: Context, origin: string, weight: number): Response {
  const { pool, logger } = ctx;
  const b = lookupActive(ctx, origin);
  const from = b.weight;
  if (from !== weight) {
    pool.setWeight(b.id, weight);
    logger.info("pool {pool}: weight of {backend} changed from {from} to {to}", {
      pool: pool.name,
      backend: b.id,
      from,
      to: weight,
    });
  }
  return json(200, ctx.show(b));
}

function setMaintenance(ctx: Context, origin: string, on: boolean): Response {
  const { pool, logger } = ctx;
  const b = lookupActive(ctx, origin);
  if (b.maintenance !== on) {
    pool.setMaintenance(b.id, on);
    const props = { pool: pool.name, backend: b.id };
    if (on) logger.info("pool {pool}: {backend} taken out for maintenance", props);
    else logger.info("pool {pool}: {backend} back from maintenance", props);
  }
  return json(200, ctx.show(b));
}

/** The backend a path names, as given or in canonical form (`LOCALHOST:80` finds `http://localhost`). */
function lookup({ entry: { pool }, base }: Scope, origin: string): Backend {
  const b = pool.find(origin) ?? pool.find(canonical(origin) ?? "");
  if (!b) {
    throw new ApiError(
      404,
      `no backend ${show(origin)} in pool ${show(pool.name)} (GET ${base} lists them)`,
    );
  }
  return b;
}

/** A backend that can still be changed: not draining. */
function lookupActive(scope: Scope, origin: string): Backend {
  const b = lookup(scope, origin);
  if (b.draining) {
    throw new ApiError(
      409,
      `backend ${b.id} in pool ${show(scope.entry.pool.name)} is draining and leaves the pool soon`,
    );
  }
  return b;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}
