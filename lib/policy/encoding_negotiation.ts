/**
 * Choosing a content coding from `Accept-Encoding` (RFC 9110 §12.5.3).
 * Each listed coding has a weight (`q`, 0-1, 1 when absent); `q=0` refuses
 * it; `*` stands for every coding not listed; `x-gzip` is `gzip`
 * (§8.4.1.3). Among the codings the server offers, the heaviest wins, and
 * the server's own order breaks ties.
 *
 * Where the RFC leaves room, this module decides:
 * - No `Accept-Encoding` at all: nothing is compressed. The RFC allows any
 *   coding then, but clients that decode send the field, and ones that
 *   don't (scripts, probes) are better served plain (NGINX and Caddy agree).
 * - `identity` competes only when listed: `gzip;q=0.5` still gets gzip,
 *   while `identity;q=1, gzip;q=0.5` gets the body as it is. A client that
 *   refuses identity and every offered coding gets it as it is too: a proxy
 *   doesn't turn the origin's answer into a 406.
 * - A coding listed twice counts by its lowest weight (a refusal wins), and
 *   an element with a malformed weight is ignored.
 *
 * Pure.
 *
 * @module
 */

import type { ContentCoding } from "../config/policies/types.ts";

/** A qvalue (RFC 9110 §12.4.2): 0 to 1 with at most three decimals. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** Weights by coding (lower-case; `*` and `identity` included), as a client listed them. */
export function parseAcceptEncoding(value: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const element of value.split(",")) {
    const parts = element.split(";");
    let name = parts[0].trim().toLowerCase();
    if (name === "") continue; // empty list elements are allowed (RFC 9110 §5.6.1)
    if (name === "x-gzip") name = "gzip";
    let q = 1;
    let malformed = false;
    for (let i = 1; i < parts.length; i++) {
      const param = parts[i].trim();
      const eq = param.indexOf("=");
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "q") continue;
      const text = param.slice(eq + 1).trim();
      if (QVALUE.test(text)) q = Number(text);
      else malformed = true;
    }
    if (malformed) continue;
    const seen = weights.get(name);
    weights.set(name, seen === undefined ? q : Math.min(seen, q));
  }
  return weights;
}

/**
 * The coding to apply for a request whose `Accept-Encoding` is `value`
 * (undefined when it had none), among `offered` in the server's order of
 * preference; undefined means the body goes as it is.
 */
export function negotiateEncoding(
  value: string | undefined,
  offered: readonly ContentCoding[],
): ContentCoding | undefined {
  if (value === undefined) return undefined;
  const weights = parseAcceptEncoding(value);
  const star = weights.get("*");
  let best: ContentCoding | undefined;
  let bestQ = 0;
  for (const coding of offered) {
    const q = weights.get(coding) ?? star ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  const identity = weights.get("identity");
  if (best === undefined || (identity !== undefined && identity > bestQ)) return undefined;
  return best;
}

/** Most distinct `Accept-Encoding` values remembered by a {@link NegotiationCache}. */
const CACHE_SIZE = 128;

/**
 * {@link negotiateEncoding} remembered by field value: clients send a few
 * distinct values (each browser its own), so a lookup replaces the parse.
 * Bounded: when full it starts again, so odd values can't grow it.
 */
export class NegotiationCache {
  readonly #offered: readonly ContentCoding[];
  readonly #chosen = new Map<string, ContentCoding | null>();

  constructor(offered: readonly ContentCoding[]) {
    this.#offered = offered;
  }

  /** The coding for `value` (undefined: none). */
  choose(value: string | undefined): ContentCoding | undefined {
    if (value === undefined) return undefined;
    const known = this.#chosen.get(value);
    if (known !== undefined) return known ?? undefined;
    const coding = negotiateEncoding(value, this.#offered);
    if (this.#chosen.size >= CACHE_SIZE) this.#chosen.clear();
    this.#chosen.set(value, coding ?? null);
    return coding;
  }
}
