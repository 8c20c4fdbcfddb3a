/**
 * The dashboard's list of recent happenings: health flips, ejections,
 * backends joining, draining and leaving, maintenance and weight changes,
 * and configuration reloads. A bounded ring (the last 100 by default), so a
 * flapping backend costs a fixed amount of memory however long the lb runs.
 * Fed from `lib/server` (pool listeners, the reloader); read by the live
 * dashboard (`live.ts`). The clock is injected so tests run on a fake one.
 *
 * @module
 */

/** What happened; the page shows the word and colours it. */
export type LbEventKind =
  | "up"
  | "down"
  | "ejected"
  | "ejection-ended"
  | "added"
  | "draining"
  | "removed"
  | "maintenance-on"
  | "maintenance-off"
  | "weight"
  | "reload"
  | "reload-failed";

/** One happening, as {@link EventLog.add} takes it. */
export interface LbEventInput {
  readonly kind: LbEventKind;
  /** The pool it happened in; absent for reloads. */
  readonly pool?: string;
  /** The backend's origin; absent for reloads. */
  readonly backend?: string;
  /** Why, or what changed (a probe's error, `weight 1 -> 3`, a reload's problems). */
  readonly detail: string;
}

/** One happening as recorded: numbered and timed. */
export interface LbEvent extends LbEventInput {
  /** 1, 2, 3, ... in the order recorded; a client asks for what came after the last it saw. */
  readonly seq: number;
  /** When it was recorded, epoch ms. */
  readonly at: number;
}

/** Options of an {@link EventLog}. */
export interface EventLogOptions {
  /** How many events are kept; the oldest go first. 100 by default. */
  readonly capacity?: number;
  /** Wall clock (epoch ms); `Date.now` by default. */
  readonly now?: () => number;
}

/** Detail texts are cut to this many characters: a reason comes from the network or a config. */
const MAX_DETAIL = 300;

/** A ring of the last `capacity` events. */
export class EventLog {
  readonly #ring: (LbEvent | undefined)[];
  readonly #now: () => number;
  #seq = 0;

  constructor(options: EventLogOptions = {}) {
    const capacity = options.capacity ?? 100;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`EventLog capacity must be a positive integer (got ${capacity})`);
    }
    this.#ring = new Array(capacity);
    this.#now = options.now ?? Date.now;
  }

  /** Records an event, replacing the oldest when full; returns it. */
  add(input: LbEventInput): LbEvent {
    const detail = input.detail.length > MAX_DETAIL
      ? `${input.detail.slice(0, MAX_DETAIL - 1)}\u2026`
      : input.detail;
    const event: LbEvent = { ...input, detail, seq: ++this.#seq, at: this.#now() };
    this.#ring[(event.seq - 1) % this.#ring.length] = event;
    return event;
  }

  /** The number of the last event recorded (0 before any). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** The events kept with `seq` greater than `after` (all by default), oldest first. */
  since(after = 0): LbEvent[] {
    const first = Math.max(after + 1, this.#seq - this.#ring.length + 1, 1);
    const out: LbEvent[] = [];
    for (let s = first; s <= this.#seq; s++) out.push(this.#ring[(s - 1) % this.#ring.length]!);
    return out;
  }
}
