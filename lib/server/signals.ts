/**
 * Termination signals for graceful shutdown, shared by both programs, and
 * SIGUSR1 for reopening log files.
 *
 * @module
 */

const SIGNALS: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];

/**
 * Calls `onFirst` on the first SIGINT/SIGTERM. A handler replaces the
 * default action (DENO-NOTES), so a second signal must force the exit
 * itself: that is what an operator pressing Ctrl-C twice expects.
 * Returns a function that removes the listeners.
 */
export function onTerminate(
  onFirst: (signal: Deno.Signal) => void,
  onSecond: (signal: Deno.Signal) => void = () => Deno.exit(1),
): () => void {
  let seen = false;
  const handlers = SIGNALS.map((signal) => {
    const handler = () => {
      if (seen) return onSecond(signal);
      seen = true;
      onFirst(signal);
    };
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  };
}

/**
 * Calls `reopen` on each SIGUSR1, the signal logrotate's `postrotate`
 * sends (as to NGINX) once it has renamed the log files. Returns a
 * function that removes the listener; does nothing on Windows.
 */
export function onReopen(reopen: () => void): () => void {
  if (Deno.build.os === "windows") return () => {};
  Deno.addSignalListener("SIGUSR1", reopen);
  return () => Deno.removeSignalListener("SIGUSR1", reopen);
}

/**
 * Waits for `server.shutdown()` but no longer than `timeoutMs`: Deno's
 * shutdown waits for every in-flight request with no deadline of its own.
 * Returns true when the drain finished in time.
 */
export async function shutdownWithin(
  server: Deno.HttpServer,
  timeoutMs: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([server.shutdown().then(() => true as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
