/**
 * Sticky sessions by cookie: the first response sets a cookie naming the
 * backend that served it, and later requests carrying it go back there while
 * it is healthy. The value is an HMAC of the backend's id, so it reveals no
 * address, can't be forged to pick a backend, and is the same on every
 * replica that shares the secret. Requests without a usable cookie are
 * placed by smooth weighted round-robin. The trade-off: session affinity,
 * but a backend's sessions stay with it however busy it gets.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import type { HeaderPairs } from "../core/transport.ts";
import type { Backend } from "../pool/pool.ts";
import type { PickContext, Strategy } from "./types.ts";
import { RoundRobin } from "./round_robin.ts";
import { cookieHeader, cookieValue } from "./request_key.ts";

/** Characters of base64url HMAC kept in the cookie: 132 bits, beyond guessing. */
const VALUE_LENGTH = 22;

/** The cookie value naming backend `id`: base64url(HMAC-SHA256(secret, id)), truncated. */
export function stickyValue(secret: string, id: string): string {
  return createHmac("sha256", secret).update(id).digest("base64url").slice(0, VALUE_LENGTH);
}

/** Sends a client back to the backend its cookie names. */
export class StickyCookie implements Strategy {
  readonly #name: string;
  readonly #secret: string;
  /** HMACs are computed once per backend; weak, so removed backends don't pin them. */
  readonly #values = new WeakMap<Backend, string>();
  readonly #fallback = new RoundRobin();

  /** `name`: the cookie's name; `secret`: the HMAC key replicas share. */
  constructor(name: string, secret: string) {
    this.#name = name;
    this.#secret = secret;
  }

  pick(snapshot: readonly Backend[], ctx: PickContext): Backend | undefined {
    const wanted = cookieValue(cookieHeader(ctx.request.headers), this.#name);
    if (wanted !== undefined) {
      for (const b of snapshot) {
        if (this.#value(b) === wanted && !ctx.exclude?.has(b)) {
          ctx.trace?.note({ cookie: this.#name, pinned: true });
          return b;
        }
      }
    }
    ctx.trace?.note({
      cookie: this.#name,
      pinned: false,
      why: wanted === undefined ? "no cookie" : "names no eligible backend (forged, gone or tried)",
      fallback: "round-robin",
    });
    // No cookie, a forged one, or its backend is gone or already tried.
    return this.#fallback.pick(snapshot, ctx);
  }

  /** A `Set-Cookie` naming `backend`, unless the request's cookie already did. */
  responseHeaders(backend: Backend, ctx: PickContext): HeaderPairs | undefined {
    const value = this.#value(backend);
    if (cookieValue(cookieHeader(ctx.request.headers), this.#name) === value) return undefined;
    return [["set-cookie", `${this.#name}=${value}; Path=/; HttpOnly; SameSite=Lax`]];
  }

  #value(backend: Backend): string {
    let value = this.#values.get(backend);
    if (value === undefined) {
      value = stickyValue(this.#secret, backend.id);
      this.#values.set(backend, value);
    }
    return value;
  }
}
