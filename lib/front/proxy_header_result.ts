/**
 * What the PROXY protocol parsers share: the {@link ProxiedAddress} a header
 * carries, the {@link ProxyHeaderResult} they return, the
 * {@link ProxyProtocolError} they throw and the size limit. A leaf module,
 * so the v1 text parser and the v2 binary parser depend on it and not on
 * each other or on the entry point (`proxy_protocol.ts`).
 *
 * @module
 */

/**
 * The addresses a PROXY header carries. A header without them (v1 UNKNOWN, v2
 * LOCAL, AF_UNSPEC, AF_UNIX) gives `address: undefined`: use the socket's own.
 */
export interface ProxiedAddress {
  /** The client: IPv4 dotted quad, or IPv6 compressed lower case without brackets, as Deno has it. */
  readonly sourceIp: string;
  /** The client's port, 0-65535. */
  readonly sourcePort: number;
  /** The address the client connected to (the balancer's listener), in the same form. */
  readonly destIp: string;
  /** The port the client connected to. */
  readonly destPort: number;
}

/** A connection whose first bytes are not a PROXY header we accept; the caller closes it. */
export class ProxyProtocolError extends Error {
  /** `message` says which rule the bytes broke and what was expected. */
  constructor(message: string) {
    super(message);
    this.name = "ProxyProtocolError";
  }
}

/**
 * Longest header we accept: a v1 line is at most 107 bytes (§2.1), a v2 header
 * at most 16 + 65535; we allow v2 headers up to this many bytes (TLVs are
 * skipped), so a peer cannot make us buffer 64 KiB before the first request.
 */
export const MAX_PROXY_HEADER_BYTES: number = 16 + 4096;

/** What {@linkcode parseProxyHeader} found. */
export type ProxyHeaderResult =
  | { readonly kind: "more" }
  | { readonly kind: "header"; readonly end: number; readonly address: ProxiedAddress | undefined };

/** The one `"more"` result, shared so that asking for more bytes allocates nothing. */
export const MORE: { readonly kind: "more" } = Object.freeze({ kind: "more" } as const);

/** `byte` as two lower-case hex digits, for error messages. */
export function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
