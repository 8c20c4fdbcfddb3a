/**
 * A byte stream as lines, read in chunks as they come, so a log of any
 * size costs one chunk and one line of memory at a time. Lines end at a
 * line feed; a carriage return before it is kept (JSON ignores it), and a
 * last line without a line feed still counts.
 *
 * @module
 */

/** Yields each line of `stream` (UTF-8) without its line feed. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    let start = 0;
    let end = text.indexOf("\n");
    if (end === -1) {
      rest += text;
      continue;
    }
    yield rest + text.slice(0, end);
    start = end + 1;
    while ((end = text.indexOf("\n", start)) !== -1) {
      yield text.slice(start, end);
      start = end + 1;
    }
    rest = text.slice(start);
  }
  if (rest !== "") yield rest;
}
