/**
 * The paths of the admin API and the pool each one addresses. Backends are
 * addressed within their pool, `/api/pools/{pool}/backends/{origin}`; the
 * older `/api/backends/{origin}` paths, from when lb had one pool, still
 * address that pool when there is exactly one, and are refused with a
 * pointer to the new paths when there are several, since guessing a pool
 * would change the wrong service.
 *
 * @module
 */

import { ApiError, show } from "./request.ts";
import type { AdminPool } from "./types.ts";

/** A path under `/api/`, parsed; `pool` is absent on the single-pool `/api/backends` paths. */
export type ApiRoute =
  | { readonly kind: "pools" }
  | { readonly kind: "workers" }
  | { readonly kind: "worker"; readonly id: string }
  | { readonly kind: "pool"; readonly pool: string }
  | { readonly kind: "backends"; readonly pool?: string }
  | {
    readonly kind: "backend" | "weight" | "maintenance";
    readonly pool?: string;
    readonly origin: string;
  };

/** The methods each kind of path answers, in the order the `Allow` header lists them. */
export const ALLOWED: Readonly<Record<ApiRoute["kind"], readonly string[]>> = {
  pools: ["GET", "HEAD"],
  workers: ["GET", "HEAD"],
  worker: ["DELETE"],
  pool: ["GET", "HEAD"],
  backends: ["GET", "HEAD", "POST"],
  backend: ["GET", "HEAD", "DELETE"],
  weight: ["PUT"],
  maintenance: ["POST", "DELETE"],
};

/** The path that lists the API, for "try ..." hints. */
export const LIST_PATH = "/api/pools";

/** The threads serving traffic; `DELETE .../{id}` replaces one. */
export const WORKERS_PATH = "/api/workers";

// The origin is one percent-encoded segment, or an unencoded
// `http://host:port` as curl users type it.
const BACKEND_TAIL = String.raw`(?:\/(https?:\/\/[^/]+|[^/]+)(?:\/(weight|maintenance))?)?`;
const LEGACY = new RegExp(String.raw`^\/api\/backends${BACKEND_TAIL}$`);
const POOLED = new RegExp(String.raw`^\/api\/pools\/([^/]+)(\/backends${BACKEND_TAIL})?$`);

/**
 * `/api/pools`, `/api/pools/{pool}`, `/api/pools/{pool}/backends`,
 * `.../backends/{origin}` and its `/weight` and `/maintenance`, the same
 * under `/api/backends` without a pool, and `/api/workers[/{id}]`. Undefined for any other path; a 400
 * for a segment that is not valid percent-encoding.
 */
export function matchRoute(path: string): ApiRoute | undefined {
  if (path === LIST_PATH) return { kind: "pools" };
  if (path === WORKERS_PATH) return { kind: "workers" };
  if (path.startsWith(`${WORKERS_PATH}/`)) {
    return { kind: "worker", id: path.slice(WORKERS_PATH.length + 1) };
  }
  const legacy = LEGACY.exec(path);
  if (legacy) return backendRoute(undefined, legacy[1], legacy[2]);
  const pooled = POOLED.exec(path);
  if (!pooled) return undefined;
  const pool = decode("pool", pooled[1]);
  if (pooled[2] === undefined) return { kind: "pool", pool };
  return backendRoute(pool, pooled[3], pooled[4]);
}

function backendRoute(
  pool: string | undefined,
  origin: string | undefined,
  sub: string | undefined,
): ApiRoute {
  if (origin === undefined) return { kind: "backends", pool };
  const kind = (sub ?? "backend") as "backend" | "weight" | "maintenance";
  return { kind, pool, origin: decode("backend", origin) };
}

function decode(what: string, segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, `${what} ${show(segment)} in the path is not valid percent-encoding`);
  }
}

/** The pool a route addresses, and the path of its backend list (for `Location` and hints). */
export interface Scope {
  /** The pool addressed. */
  readonly entry: AdminPool;
  /** `/api/pools/{pool}/backends`, or `/api/backends` on the single-pool paths. */
  readonly base: string;
}

/**
 * Finds the pool `name` (absent: the only pool). Throws a 404 naming the
 * unknown pool and the known ones, or, on an `/api/backends` path with
 * several pools, saying which path to use instead.
 */
export function resolvePool(
  pools: readonly AdminPool[],
  name: string | undefined,
  path: string,
): Scope {
  const names = pools.length === 0 ? "none" : pools.map((p) => p.pool.name).join(", ");
  if (name === undefined) {
    if (pools.length === 1) return { entry: pools[0], base: "/api/backends" };
    const instead = path.replace(/^\/api\/backends/, "/api/pools/{pool}/backends");
    throw new ApiError(
      404,
      `${path} addresses the only pool, but there are ${pools.length} (${names}): ` +
        `use ${instead} (GET ${LIST_PATH} lists them)`,
    );
  }
  const entry = pools.find((p) => p.pool.name === name);
  if (!entry) throw new ApiError(404, `no pool ${show(name)} (known pools: ${names})`);
  return { entry, base: `${LIST_PATH}/${encodeURIComponent(name)}/backends` };
}
