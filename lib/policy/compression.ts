/**
 * `policies.compression`: replies compressed on the way to the client with
 * the coding it prefers among `encodings` (RFC 9110 §12.5.3,
 * `encoding_negotiation.ts`), for the types and sizes the rules allow
 * (`compress_rules.ts`). A body in hand (at most 64 KiB: the transport
 * reads small bodies whole) is compressed at once and keeps a length; a
 * streamed one is compressed chunk by chunk as the client reads it
 * (`compress_stream.ts`) and goes chunked. An eligible reply sent as it is
 * still gets `Vary: Accept-Encoding`, so a cache keeps the two forms apart.
 *
 * The streams running at once in a thread are capped (`max-streams`): each
 * holds a compressor's window and tables (measured: about 0.5 MiB for gzip,
 * 3-4 MiB for brotli and zstd), so many slow readers of large bodies can't
 * exhaust memory; past the cap a reply goes as it is and is counted.
 *
 * @module
 */

import type { CompressionConfig, ContentCoding } from "../config/policies/types.ts";
import type { ProxyReply } from "../core/message.ts";
import type { HeaderPairs } from "../core/transport.ts";
import type { CounterChild } from "../metrics/registry.ts";
import { chunkCompressor, compressWhole } from "./compress_codecs.ts";
import { eligible, encodedHeaders, noTransform, TypeMatcher, withVary } from "./compress_rules.ts";
import { compressedBody, sliced } from "./compress_stream.ts";
import { NegotiationCache } from "./encoding_negotiation.ts";
import type { Policy, PolicyDeps, PolicyExchange } from "./types.ts";

/** Bodies in hand up to this are compressed in one go; larger ones are streamed in slices. */
const WHOLE_LIMIT = 64 * 1024;

/** The streams compressing now in this thread, shared by every route and generation. */
interface StreamSlots {
  active: number;
  close(): void;
}

/** What the policy asks of a request: its `Accept-Encoding` (joined), unless it forbids transforms. */
function acceptEncoding(headers: HeaderPairs): string | undefined {
  let value: string | undefined;
  for (const [name, v] of headers) {
    if (name === "accept-encoding") value = value === undefined ? v : `${value}, ${v}`;
    else if (name === "cache-control" && noTransform(v)) return undefined;
  }
  return value;
}

/** The compression policy of route `route`. */
export function createCompression(
  config: CompressionConfig,
  deps: PolicyDeps,
  route: string,
): Policy {
  const types = new TypeMatcher(config.types);
  const negotiation = new NegotiationCache(config.encodings);
  const { metrics } = deps;
  const counted = {} as Record<ContentCoding, CounterChild>;
  for (const coding of config.encodings) counted[coding] = metrics.compressed.labels(route, coding);
  const busy = metrics.compressionBusy.labels(route);
  const bytesIn = metrics.compressionBytes.labels("in");
  const bytesOut = metrics.compressionBytes.labels("out");
  const slots = deps.shared<StreamSlots>("compression:streams", () => ({
    active: 0,
    close() {},
  }));
  const account = (n: number, out: number) => {
    bytesIn.inc(n);
    bytesOut.inc(out);
  };

  function compress(reply: ProxyReply, coding: ContentCoding): ProxyReply {
    const body = reply.body!;
    if (body instanceof Uint8Array && body.length <= WHOLE_LIMIT) {
      const out = compressWhole(coding, body, config.levels);
      counted[coding].inc();
      account(body.length, out.length);
      return { ...reply, headers: encodedHeaders(reply.headers, coding), body: out };
    }
    if (slots.active >= config.maxStreams) {
      busy.inc();
      return varied(reply);
    }
    const compressor = chunkCompressor(coding, config.levels);
    const source = body instanceof Uint8Array ? sliced(body, WHOLE_LIMIT) : body;
    slots.active++;
    const stream = compressedBody(source, compressor, (n, out) => {
      slots.active--;
      account(n, out);
    });
    counted[coding].inc();
    return { ...reply, headers: encodedHeaders(reply.headers, coding), body: stream };
  }

  return {
    kind: "compression",
    response(reply: ProxyReply, x: PolicyExchange): ProxyReply {
      const method = x.request.method;
      if (!eligible(reply, method, types, config.minBytes)) {
        x.explain?.policy("compression", "not eligible (type, size, status or method)");
        return reply;
      }
      const coding = negotiation.choose(acceptEncoding(x.request.headers));
      if (x.explain) x.explain.policy("compression", coding ?? "no coding the client accepts");
      if (coding === undefined) return varied(reply);
      // HEAD: the fields a GET would get, and still no body.
      if (method === "HEAD") return { ...reply, headers: encodedHeaders(reply.headers, coding) };
      try {
        return compress(reply, coding);
      } catch (err) {
        // The compressor couldn't start (out of memory): the reply goes as it is, the lb lives on.
        deps.log.error("compression ({coding}) failed, reply sent as it is: {error}", {
          coding,
          error: String(err),
        });
        return varied(reply);
      }
    },
  };
}

/** `reply` with `Vary: Accept-Encoding`, itself when it has it already. */
function varied(reply: ProxyReply): ProxyReply {
  const headers = withVary(reply.headers);
  return headers === reply.headers ? reply : { ...reply, headers };
}
