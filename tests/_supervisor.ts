/** A parsed default configuration, for tests that only pass one along. */

import { parseLbArgs } from "../lib/config/parse.ts";
import type { LbConfig } from "../lib/config/types.ts";

const command = parseLbArgs(["--backends", "http://127.0.0.1:1"], {});
if (command.kind !== "run") throw new Error("the default configuration did not parse");

/** `lb --backends http://127.0.0.1:1`. */
export const LbConfigForTests: LbConfig = command.config;
