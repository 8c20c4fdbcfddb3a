/**
 * The bcrypt thread's program: compares one password with one hash per
 * message, in order, and answers `{ id, ok }`. bcryptjs's own async
 * compare only yields every 100 ms, so on the lb's thread a cost-10 check
 * (about 80 ms here) would stall every connection of that thread; here it
 * stalls nothing but this thread. Started by `auth_bcrypt.ts`; importing it
 * anywhere else does nothing.
 *
 * @module
 */

import { parentPort } from "node:worker_threads";
import bcrypt from "bcryptjs";

/** A check the lb's thread asks for. */
export interface BcryptRequest {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

/** Its answer: false for a wrong password and for a hash bcryptjs can't read. */
export interface BcryptAnswer {
  readonly id: number;
  readonly ok: boolean;
}

if (parentPort) {
  const port = parentPort;
  port.on("message", (m: BcryptRequest) => {
    let ok = false;
    try {
      ok = bcrypt.compareSync(m.password, m.hash);
    } catch {
      // The config accepted only well-formed bcrypt; anything else fails closed.
    }
    port.postMessage({ id: m.id, ok } satisfies BcryptAnswer);
  });
}
