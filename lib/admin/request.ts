/**
 * The request side of the admin API: reading a JSON body within a size
 * limit, and checking the bearer token of mutating routes in constant time.
 * Every refusal is an {@link ApiError}, which `createAdminApi` in
 * `api.ts` maps to a JSON `{error}` answer.
 *
 * @module
 */

/** Largest request body read (64 KiB); the documents here are a few dozen bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Answer of mutating routes when no token is configured. */
export const READ_ONLY_MESSAGE =
  "the admin API is read-only: start lb with --admin-token or ADMIN_TOKEN";

/** A refusal, mapped to a JSON `{error}` answer in one place (`createAdminApi`). */
export class ApiError extends Error {
  /** `status` is the HTTP status; `headers` go on the answer (`Allow`, `WWW-Authenticate`). */
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Reads a JSON object body: `application/json`, at most
 * {@link MAX_BODY_BYTES}, only the `fields` named.
 */
export async function readObject(
  req: Request,
  fields: readonly string[],
): Promise<Record<string, unknown>> {
  const type = req.headers.get("content-type");
  if (type?.split(";")[0].trim().toLowerCase() !== "application/json") {
    await req.body?.cancel();
    throw new ApiError(
      400,
      `Content-Type must be application/json (got ${show(type ?? undefined)})`,
    );
  }
  const text = await readText(req);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    const kind = body === null ? "null" : Array.isArray(body) ? "an array" : typeof body;
    throw new ApiError(400, `body must be a JSON object with ${fields.join(", ")} (got ${kind})`);
  }
  const unknown = Object.keys(body).filter((k) => !fields.includes(k));
  if (unknown.length > 0) {
    throw new ApiError(
      400,
      `unknown field ${unknown.map((k) => show(k)).join(", ")} (expected ${fields.join(", ")})`,
    );
  }
  return body as Record<string, unknown>;
}

/** The body as UTF-8, refused past the limit without reading the rest. */
async function readText(req: Request): Promise<string> {
  const tooLarge = () => new ApiError(400, `body is larger than ${MAX_BODY_BYTES} bytes`);
  if (Number(req.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) {
    await req.body?.cancel();
    throw tooLarge();
  }
  if (!req.body) return "";
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    size += r.value.length;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    parts.push(r.value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(await new Blob(parts).arrayBuffer());
  } catch {
    throw new ApiError(400, "body is not valid JSON: it is not UTF-8");
  }
}

/**
 * Checks `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is
 * case-insensitive, RFC 9110 §11.1). Both tokens are HMAC'd with a random
 * per-process key and the digests compared in constant time, so the
 * comparison's timing says nothing about the token, not even its length.
 */
export function bearerAuth(token: string | undefined): (req: Request) => Promise<void> {
  if (!token) return () => Promise.reject(new ApiError(403, READ_ONLY_MESSAGE));
  // Created on first use, so building a handler starts no async work.
  let key: Promise<CryptoKey> | undefined;
  let expected: Promise<Uint8Array> | undefined;
  const challenge = (error?: string) => ({
    "www-authenticate": `Bearer realm="lb-admin"${error ? `, error="${error}"` : ""}`,
  });
  return async (req) => {
    const header = req.headers.get("authorization")?.trim();
    if (!header) {
      throw new ApiError(
        401,
        "missing Authorization header (expected Bearer <token>)",
        challenge(),
      );
    }
    const [scheme, ...rest] = header.split(/ +/);
    if (scheme.toLowerCase() !== "bearer") {
      throw new ApiError(
        401,
        `Authorization scheme ${show(scheme)} is not Bearer (expected Bearer <token>)`,
        challenge(),
      );
    }
    key ??= crypto.subtle.importKey(
      "raw",
      crypto.getRandomValues(new Uint8Array(32)),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    expected ??= key.then((k) => mac(k, token));
    const [want, got] = await Promise.all([expected, key.then((k) => mac(k, rest.join(" ")))]);
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff |= want[i] ^ got[i];
    if (diff !== 0) throw new ApiError(401, "wrong token", challenge("invalid_token"));
  };
}

async function mac(key: CryptoKey, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
}

/** A value for an error message: JSON, cut short so a 64 KiB string isn't echoed back. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const s = JSON.stringify(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
