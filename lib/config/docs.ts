/**
 * The README's option tables, generated from the option table: one table
 * per help group (option, env, default, reloadable, description), laid out
 * the way `deno fmt` lays out Markdown tables so formatting never changes
 * them. `scripts/gen_docs.ts` writes them between the README's
 * `<!-- options:start -->` and `<!-- options:end -->` markers; a test
 * fails when the README and the table drift apart.
 *
 * @module
 */

import { GROUPS, OPTION_NAMES, type OptionName, optionSpec, shownDefault } from "./options.ts";

/** The markers around the generated block in README.md. */
export const README_MARKERS = {
  start: "<!-- options:start -->",
  end: "<!-- options:end -->",
} as const;

const HEADER = ["option", "env", "default", "reloadable", "description"];

/** A Markdown table with every column padded to its widest cell, as `deno fmt` writes it. */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(3, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const rule = `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join("\n");
}

/** Text safe in a table cell (a `|` would end the cell). */
function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function row(name: OptionName): string[] {
  const spec = optionSpec(name);
  const placeholder = spec.placeholder ?? spec.kind.placeholder;
  const flag = `\`--${name}${placeholder ? ` ${placeholder}` : ""}\``;
  // A literal default reads as code; a described one (`none`, a rule) as prose.
  const described = typeof spec.default !== "string" || spec.shown !== undefined ||
    spec.kind.type === "boolean";
  const shown = spec.cliOnly ? "" : described ? shownDefault(name) : `\`${shownDefault(name)}\``;
  const reload = spec.cliOnly
    ? ""
    : spec.toggleNeedsRestart
    ? "yes (on/off: restart)"
    : spec.reload
    ? "yes"
    : "restart";
  const note = spec.kind.note
    ? spec.kind.type === "choice"
      ? `: ${spec.kind.note.split(", ").map((n) => `\`${n}\``).join(", ")}`
      : ` (${spec.kind.note})`
    : "";
  const scope = spec.scope === "pool" ? "; per pool" : "";
  return [
    flag,
    spec.env ? `\`${spec.env}\`` : "",
    cell(shown),
    reload,
    cell(`${spec.help}${note}${scope}`),
  ];
}

/** The generated README block, markers excluded: a heading and a table per group. */
export function optionsMarkdown(): string {
  const sections: string[] = [];
  for (const [group, title] of Object.entries(GROUPS)) {
    const names = OPTION_NAMES.filter((n) => optionSpec(n).group === group);
    sections.push(`### ${title}\n\n${markdownTable([HEADER, ...names.map(row)])}`);
  }
  return sections.join("\n\n");
}

/**
 * `readme` with the block between the markers replaced by `block`. Throws
 * when a marker is missing, naming it.
 */
export function replaceBlock(readme: string, block: string): string {
  const start = readme.indexOf(README_MARKERS.start);
  const end = readme.indexOf(README_MARKERS.end);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(
      `README.md needs ${README_MARKERS.start} and then ${README_MARKERS.end} around the options`,
    );
  }
  return `${readme.slice(0, start + README_MARKERS.start.length)}\n\n${block}\n\n${
    readme.slice(end)
  }`;
}
