/**
 * Headless Chromium for the browser tests: Debian's `chromium`, driven by
 * `playwright-core`. {@link chromiumInstalled} says whether it is installed (the
 * tests skip, saying so, when not); {@link launchChromium} starts it with
 * nothing that would reach the network on its own.
 *
 * @module
 */

import { type Browser, chromium } from "playwright-core";

/** Where Debian's package puts it (`apt-get install chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed; when not, prints that `test` is skipped and why. */
export function chromiumInstalled(test: string): boolean {
  try {
    if (Deno.statSync(CHROMIUM).isFile) return true;
  } catch {
    // Not installed.
  }
  console.log(`${test}: SKIPPED — no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  return false;
}

/** A headless Chromium; close it with `browser.close()`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
