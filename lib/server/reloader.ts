/**
 * Live reconfiguration: on SIGHUP, and when the config file changes
 * (`Deno.watchFs`, debounced because editors write in several steps), the
 * whole configuration is parsed again from the same arguments, environment
 * and the file. A valid one is applied atomically; an invalid one is logged
 * and the running configuration stays. Reloads never overlap.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";
import { UsageError } from "../config/cli.ts";
import { loadConfigFile } from "../config/file.ts";
import { parseLbArgs } from "../config/parse.ts";
import type { RunningLb } from "./lb.ts";
import type { Logger } from "../core/logging.ts";
import { describeConfig } from "../config/describe.ts";

/** Editors save in bursts; one reload per burst. */
const DEBOUNCE_MS = 250;

/** What a {@link Reloader} needs. */
export interface ReloaderOptions {
  readonly lb: RunningLb;
  /** The config file, when there is one (without it only SIGHUP re-reads flags/env). */
  readonly path?: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
}

/** Reloads the configuration on request, on SIGHUP and on file changes. */
export class Reloader {
  readonly #opts: ReloaderOptions;
  #queue: Promise<boolean> = Promise.resolve(true);
  #watcher: Deno.FsWatcher | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onHup = () => void this.reload("SIGHUP");

  constructor(options: ReloaderOptions) {
    this.#opts = options;
  }

  /** Re-reads and applies the configuration; resolves true when applied. */
  reload(reason: string): Promise<boolean> {
    this.#queue = this.#queue.then(() => this.#reload(reason));
    return this.#queue;
  }

  async #reload(reason: string): Promise<boolean> {
    const { lb, path, args, env, log } = this.#opts;
    try {
      const file = path ? await loadConfigFile(path) : undefined;
      // A generated sticky secret must survive reloads, or every cookie breaks.
      const command = parseLbArgs(args, env, () => lb.config.generatedStickySecret, file);
      if (command.kind !== "run") return false;
      const restart = await lb.reconfigure(command.config);
      lb.metrics.configReloads.labels("success").inc();
      lb.metrics.configLastReloadOk.set(1);
      const summary = describeConfig(command.config);
      log.info("configuration reloaded ({reason}): {summary}", { reason, summary });
      const needs = restart.length > 0 ? `; needs a restart: ${restart.join(", ")}` : "";
      lb.events.add({ kind: "reload", detail: `${reason}: ${summary}${needs}` });
      if (restart.length > 0) {
        log.warning("changed settings that need a restart to apply: {settings}", {
          settings: restart.join(", "),
        });
      }
      return true;
    } catch (err) {
      lb.metrics.configReloads.labels("failure").inc();
      lb.metrics.configLastReloadOk.set(0);
      const problems = err instanceof UsageError ? err.problems : [String(err)];
      log.error("configuration reload ({reason}) rejected; keeping the running one: {problems}", {
        reason,
        problems: problems.join("; "),
      });
      lb.events.add({ kind: "reload-failed", detail: `${reason}: ${problems.join("; ")}` });
      return false;
    }
  }

  /** Listens for SIGHUP and, with a config file, for changes to it. */
  start(): void {
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGHUP", this.#onHup);
    if (!this.#opts.path) return;
    // Watch the directory, not the file: editors and Kubernetes ConfigMaps
    // replace the file (a rename), which would end a watch on the file itself.
    const file = resolve(this.#opts.path);
    const watcher = Deno.watchFs(dirname(file));
    this.#watcher = watcher;
    (async () => {
      try {
        for await (const event of watcher) {
          if (event.kind === "access") continue;
          if (!event.paths.some((p) => p === file || basename(p) === "..data")) continue;
          clearTimeout(this.#timer);
          this.#timer = setTimeout(() => void this.reload("file changed"), DEBOUNCE_MS);
        }
      } catch {
        // The watcher was closed.
      }
    })();
  }

  /** Stops listening and waits for a reload in progress. */
  async stop(): Promise<void> {
    if (Deno.build.os !== "windows") Deno.removeSignalListener("SIGHUP", this.#onHup);
    clearTimeout(this.#timer);
    try {
      this.#watcher?.close();
    } catch { /* already closed */ }
    await this.#queue;
  }
}
