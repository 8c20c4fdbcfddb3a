/**
 * The text of `lb replay --help`.
 *
 * @module
 */

/** Usage text for `lb replay --help`. */
export const REPLAY_USAGE: string =
  `lb replay \u2014 where a logged traffic would go under a new config

Usage: lb replay --config FILE [--format text|json] [--seed N] LOG

Reads LOG, a JSON access log (--access-log-format json; - for stdin), and
simulates each request under the config FILE, in log order: the routes,
splits and balancing strategies, every backend up; ip rules (403), rate
limits on the log's own times (429), no route (--no-route-status). Prints,
before (the log) and after (the simulation), the shares per route, pool
and backend, the requests that move or would now be rejected, and a
summary. Starts no listener and sends nothing. The config is checked as
lb --config checks it; environment variables (LB_*, BACKENDS, ...) are not
read. Malformed lines are counted and listed, never fatal.

Flags:
  --config FILE     the new configuration (JSON or YAML); required
  --format NAME     text (default) or json: one JSON object, the same report
  --seed N          seed of random choices (random, p2c-ewma, ...; default 1)
  -h, --help        this text

See docs/replay.md.
`;
