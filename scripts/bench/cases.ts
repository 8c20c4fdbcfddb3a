/**
 * The load shapes the benchmark measures. Each case is one command per
 * target and round, from one of three load generators:
 *
 * - `wrk`: wrk for a whole `--duration`;
 * - `big`: `big_client.ts` for a whole `--duration` with 256 MiB bodies,
 *   plus the target's memory growth over its idle size;
 * - `h2`: a fixed number of h2load requests over HTTPS, against TLS
 *   instances of the targets that speak it.
 *
 * @module
 */

import { HUGE_BODY_BYTES } from "./configs.ts";

/** Every case, in run order. */
export const CASE_NAMES = [
  "small",
  "text",
  "download",
  "upload",
  "c1000",
  "big-download",
  "big-upload",
  "h2",
] as const;
/** A case name. */
export type CaseName = (typeof CASE_NAMES)[number];

/**
 * What runs without `--cases`: all but `text`, which exists for the
 * compression policy (its 16 KiB body is above the usual minimum size, the
 * small case's 100 bytes are not) and says little about the other targets
 * that `download` does not.
 */
export const DEFAULT_CASES: readonly CaseName[] = CASE_NAMES.filter((c) => c !== "text");

/** A case wrk runs. */
export interface WrkCase {
  readonly kind: "wrk";
  readonly path: string;
  readonly connections: number;
  readonly threads: number;
  /** Whether each request POSTs a 1 MiB body (via the generated Lua script). */
  readonly upload: boolean;
  readonly help: string;
}

/** A case `big_client.ts` runs. */
export interface BigCase {
  readonly kind: "big";
  readonly path: string;
  readonly connections: number;
  /** Bytes POSTed per request; 0 for GETs. */
  readonly uploadBytes: number;
  readonly help: string;
}

/** A case h2load runs. */
export interface H2Case {
  readonly kind: "h2";
  readonly path: string;
  /** `h2load -n`. */
  readonly requests: number;
  /** `h2load -c`. */
  readonly clients: number;
  /** `h2load -m`. */
  readonly streams: number;
  readonly help: string;
}

/** How one case loads a target. */
export type Case = WrkCase | BigCase | H2Case;

/**
 * 16 connections for the 1 MiB cases: enough to keep a proxy busy on a
 * 2-core machine without measuring only queueing, and 16 MiB in flight.
 * 4 for the 256 MiB cases: a proxy that buffered bodies whole would need
 * 1 GiB, one that streams a few buffers per connection.
 */
export const CASES: Readonly<Record<CaseName, Case>> = {
  small: {
    kind: "wrk",
    path: "/",
    connections: 64,
    threads: 1,
    upload: false,
    help: "GET / (100-byte body), 64 connections, 1 wrk thread",
  },
  text: {
    kind: "wrk",
    path: "/text",
    connections: 64,
    threads: 1,
    upload: false,
    help: "GET /text (16 KiB of text/plain), 64 connections, 1 wrk thread (only with --cases)",
  },
  download: {
    kind: "wrk",
    path: "/1m",
    connections: 16,
    threads: 1,
    upload: false,
    help: "GET /1m (1 MiB body), 16 connections, 1 wrk thread",
  },
  upload: {
    kind: "wrk",
    path: "/upload",
    connections: 16,
    threads: 1,
    upload: true,
    help: "POST /upload with a 1 MiB body (small 200 answer), 16 connections, 1 wrk thread",
  },
  c1000: {
    kind: "wrk",
    path: "/",
    connections: 1000,
    threads: 2,
    upload: false,
    help: "GET / (100-byte body), 1,000 connections, 2 wrk threads",
  },
  "big-download": {
    kind: "big",
    path: "/256m",
    connections: 4,
    uploadBytes: 0,
    help: "GET /256m (256 MiB body), 4 connections (big_client.ts); RSS growth over idle",
  },
  "big-upload": {
    kind: "big",
    path: "/big-upload",
    connections: 4,
    uploadBytes: HUGE_BODY_BYTES,
    help:
      "POST /big-upload with a 256 MiB body, 4 connections (big_client.ts); RSS growth over idle",
  },
  h2: {
    kind: "h2",
    path: "/",
    requests: 40_000,
    clients: 16,
    streams: 10,
    help: "h2load -n 40000 -c 16 -m 10 over HTTPS (GET /, 100-byte body): lb and nginx with TLS",
  },
};
