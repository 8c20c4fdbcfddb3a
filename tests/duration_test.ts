import assert from "node:assert/strict";
import fc from "fast-check";
import { formatDuration, parseDuration } from "../lib/core/duration.ts";

const VALID: [string, number][] = [
  ["0", 0],
  ["0ms", 0],
  ["0s", 0],
  ["1ms", 1],
  ["250ms", 250],
  ["5s", 5_000],
  ["1.5s", 1_500],
  ["0.25s", 250],
  ["2m", 120_000],
  ["1h", 3_600_000],
  ["1.5h", 5_400_000],
  [" 5s ", 5_000],
  ["0.4ms", 0], // rounded to whole milliseconds
  ["0.5ms", 1],
];

for (const [text, ms] of VALID) {
  Deno.test(`parseDuration(${JSON.stringify(text)}) is ${ms}`, () => {
    assert.equal(parseDuration(text), ms);
  });
}

const INVALID = [
  "",
  " ",
  "5", // a bare number other than 0 is ambiguous
  "100",
  "s",
  "5x",
  "5 s",
  "5S",
  "5sec",
  "-1s",
  "+1s",
  ".5s",
  "5.s",
  "1e3ms",
  "1s2ms",
  "Infinitys",
  "NaNms",
];

for (const text of INVALID) {
  Deno.test(`parseDuration(${JSON.stringify(text)}) is undefined`, () => {
    assert.equal(parseDuration(text), undefined);
  });
}

const FORMATS: [number, string][] = [
  [0, "0ms"],
  [1, "1ms"],
  [999, "999ms"],
  [1_000, "1s"],
  [1_500, "1500ms"],
  [30_000, "30s"],
  [60_000, "1m"],
  [90_000, "90s"],
  [3_600_000, "60m"],
];

for (const [ms, text] of FORMATS) {
  Deno.test(`formatDuration(${ms}) is ${text}`, () => {
    assert.equal(formatDuration(ms), text);
  });
}

Deno.test("parseDuration(formatDuration(ms)) round-trips every whole number of milliseconds", () => {
  fc.assert(
    fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), (ms) => {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }),
  );
});

Deno.test("formatDuration picks the largest unit that divides evenly, for small values", () => {
  fc.assert(
    fc.property(fc.nat({ max: 10_000_000 }), (ms) => {
      const text = formatDuration(ms);
      if (ms !== 0 && ms % 60_000 === 0) assert.match(text, /^\d+m$/);
      else if (ms !== 0 && ms % 1000 === 0) assert.match(text, /^\d+s$/);
      else assert.match(text, /^\d+ms$/);
    }),
  );
});
