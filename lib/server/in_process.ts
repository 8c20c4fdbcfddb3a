/**
 * In-process requests: {@link handleInProcess} runs a `Request` through the
 * `Deno.serve` front's adapter with no socket, for the library's
 * `handle()` and for tests.
 *
 * @module
 */

/**
 * Runs `request` through the `Deno.serve` adapter with no socket: the
 * response counts as delivered once its body has been read to the end (or
 * cancelled), which frees its backend and writes its access-log record.
 */
export async function handleInProcess(
  serve: (req: Request, info: Deno.ServeHandlerInfo) => Promise<Response>,
  request: Request,
  clientIp: string,
): Promise<Response> {
  // A `Request` built in code has no Host field; its URL's authority stands for it.
  if (!request.headers.has("host")) {
    const headers = new Headers(request.headers);
    headers.set("host", new URL(request.url).host);
    request = new Request(request, { headers });
  }
  let delivered!: () => void;
  const completed = new Promise<void>((resolve) => delivered = resolve);
  const res = await serve(request, {
    remoteAddr: { transport: "tcp", hostname: clientIp, port: 0 },
    completed,
  });
  if (res.body === null || res.status === 101) {
    delivered();
    return res;
  }
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({ flush: delivered, cancel: delivered }),
  );
  return new Response(body, { status: res.status, headers: res.headers });
}
