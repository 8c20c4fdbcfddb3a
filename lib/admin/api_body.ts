/**
 * The request bodies of the admin API's mutations, checked whole: every
 * problem is named with its field and bad value, and a backend URL follows
 * exactly the rules of `--backends`.
 *
 * @module
 */

import { Problems } from "../config/cli.ts";
import { parseBackends } from "../config/parse.ts";
import type { BackendSpec } from "../core/backend_spec.ts";
import { ApiError, show } from "./request.ts";

/**
 * The body of `POST .../backends`. Checks `url` and `weight` together, so a
 * client sees every problem at once; throws a 400 naming each field and its
 * bad value.
 */
export function parseAdd(body: Record<string, unknown>): BackendSpec {
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

/** The body of `PUT .../backends/{origin}/weight`: the new weight, or a 400. */
export function parseWeightChange(body: Record<string, unknown>): number {
  const problems: string[] = [];
  const weight = checkWeight(body.weight, problems);
  if (problems.length > 0) throw new ApiError(400, problems[0]);
  return weight;
}

/** An origin from a path in canonical form (`LOCALHOST:80` -> `http://localhost`), if it is one. */
export function canonical(origin: string): string | undefined {
  if (/[,=]/.test(origin)) return undefined;
  const p = new Problems();
  const [spec] = parseBackends(p, origin);
  return p.list.length === 0 ? spec?.origin : undefined;
}

function checkWeight(w: unknown, problems: string[]): number {
  if (typeof w === "number" && Number.isInteger(w) && w >= 1 && w <= 1000) return w;
  problems.push(`"weight" must be a whole number from 1 to 1000 (got ${show(w)})`);
  return 1;
}
