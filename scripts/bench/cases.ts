/**
 * The load shapes the benchmark measures, each one wrk command per target.
 *
 * @module
 */

/** Every case, in run order. */
export const CASE_NAMES = ["small", "download", "upload", "c1000"] as const;
/** A case name. */
export type CaseName = (typeof CASE_NAMES)[number];

/** How wrk loads a target in one case. */
export interface Case {
  readonly path: string;
  readonly connections: number;
  readonly threads: number;
  /** Whether each request POSTs a 1 MiB body (via the generated Lua script). */
  readonly upload: boolean;
  readonly help: string;
}

/**
 * 16 connections for the 1 MiB cases: enough to keep a proxy busy on a
 * 2-core machine without measuring only queueing, and 16 MiB in flight.
 */
export const CASES: Readonly<Record<CaseName, Case>> = {
  small: {
    path: "/",
    connections: 64,
    threads: 1,
    upload: false,
    help: "GET / (100-byte body), 64 connections, 1 wrk thread",
  },
  download: {
    path: "/1m",
    connections: 16,
    threads: 1,
    upload: false,
    help: "GET /1m (1 MiB body), 16 connections, 1 wrk thread",
  },
  upload: {
    path: "/upload",
    connections: 16,
    threads: 1,
    upload: true,
    help: "POST /upload with a 1 MiB body (small 200 answer), 16 connections, 1 wrk thread",
  },
  c1000: {
    path: "/",
    connections: 1000,
    threads: 2,
    upload: false,
    help: "GET / (100-byte body), 1,000 connections, 2 wrk threads",
  },
};
