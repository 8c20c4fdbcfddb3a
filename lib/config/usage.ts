/**
 * The text of `lb --help`, generated from the option table: one section per
 * help group, each option with its placeholder, help, accepted values,
 * environment variable, default and whether it can be set per pool.
 *
 * @module
 */

import { GROUPS, OPTION_NAMES, type OptionName, optionSpec, shownDefault } from "./options.ts";

const WIDTH = 100;
const COLUMN = 32;

/** Words of `text` in lines of at most `width` (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The facts shown after an option's help: accepted values, env, default, scope. */
function facts(name: OptionName): string[] {
  const spec = optionSpec(name);
  const out: string[] = [];
  if (spec.kind.note) out.push(spec.kind.note);
  if (spec.env) out.push(`env ${spec.env}`);
  if (!spec.cliOnly) out.push(`default ${shownDefault(name)}`);
  if (spec.scope === "pool") out.push("per pool");
  return out;
}

function optionLines(name: OptionName): string[] {
  const spec = optionSpec(name);
  const placeholder = spec.placeholder ?? spec.kind.placeholder;
  const short = spec.short ? `-${spec.short}, ` : "";
  const flag = `  ${short}--${name}${placeholder ? ` ${placeholder}` : ""}`;
  const more = facts(name);
  const text = more.length > 0 ? `${spec.help} [${more.join("; ")}]` : spec.help;
  const body = wrap(text, WIDTH - COLUMN);
  const pad = " ".repeat(COLUMN);
  const first = flag.length < COLUMN
    ? `${flag.padEnd(COLUMN)}${body[0]}`
    : `${flag}\n${pad}${body[0]}`;
  return [first, ...body.slice(1).map((l) => `${pad}${l}`)];
}

/** Usage text for `lb --help`. Pure. */
export function lbUsage(): string {
  const out = [
    "lb \u2014 an HTTP load balancer",
    "",
    "Usage: lb [flags]",
    "       lb replay --config FILE [--format text|json] [--seed N] LOG   (lb replay --help)",
    "",
    ...wrap(
      "Each value comes from its flag, else its environment variable, else the config file " +
        "(--config), else its default. Durations take ms, s, m or h (250ms, 5s, 1m); sizes " +
        'B, KB, KiB, MB or MiB. "per pool": the config file can set it for each pool.',
      WIDTH,
    ),
  ];
  for (const [group, title] of Object.entries(GROUPS)) {
    out.push("", `${title}:`);
    for (const name of OPTION_NAMES) {
      if (optionSpec(name).group === group) out.push(...optionLines(name));
    }
  }
  return `${out.join("\n")}\n`;
}

/** Usage text for `lb --help`. */
export const LB_USAGE: string = lbUsage();
