/**
 * `deno task docs`: writes what is generated from the option table
 * (`lib/config/options.ts`): the config file's JSON schema,
 * `schema/lb.schema.json`, and the option tables in README.md between
 * `<!-- options:start -->` and `<!-- options:end -->`. Run it after
 * changing an option; `tests/config/generated_test.ts` fails until you do.
 *
 * @module
 */

import { optionsMarkdown, replaceBlock } from "../lib/config/docs.ts";
import { schemaText } from "../lib/config/schema.ts";

const ROOT = new URL("..", import.meta.url);

/** The files this script writes, relative to the repository root, and their new contents. */
export async function generatedFiles(): Promise<Record<string, string>> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  return {
    "schema/lb.schema.json": schemaText(),
    "README.md": replaceBlock(readme, optionsMarkdown()),
  };
}

if (import.meta.main) {
  for (const [path, text] of Object.entries(await generatedFiles())) {
    const url = new URL(path, ROOT);
    const old = await Deno.readTextFile(url).catch(() => "");
    if (old === text) continue;
    await Deno.writeTextFile(url, text);
    console.log(`wrote ${path}`);
  }
}
