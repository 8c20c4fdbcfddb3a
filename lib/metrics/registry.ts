/**
 * A small Prometheus registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format (version 0.0.4). Written here
 * rather than taken from `prom-client` to keep the request path to a map
 * lookup and an addition, with label children cached by the caller.
 *
 * @module
 */

type Labels = readonly string[];

abstract class Metric<Child> {
  readonly #children = new Map<string, { values: Labels; child: Child }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: Labels,
  ) {}

  /** The child for these label values (same order as `labelNames`); cache it on hot paths. */
  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) {
      throw new RangeError(`${this.name} takes ${this.labelNames.length} label values`);
    }
    const key = values.join("\u0000");
    let entry = this.#children.get(key);
    if (!entry) {
      entry = { values, child: this.create() };
      this.#children.set(key, entry);
    }
    return entry.child;
  }

  /** Drops the series for these label values (e.g. a backend that left the pool). */
  remove(...values: string[]): void {
    this.#children.delete(values.join("\u0000"));
  }

  protected abstract create(): Child;
  abstract readonly type: "counter" | "gauge" | "histogram";
  protected abstract sample(child: Child): SeriesValue;

  /** The family as data: what a worker sends to be merged, and what is rendered. */
  snapshot(): FamilySnapshot {
    const series: Series[] = [];
    for (const { values, child } of this.#children.values()) {
      series.push({ values, value: this.sample(child) });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      labelNames: this.labelNames,
      series,
    };
  }
}

/** A histogram series' value: per-bucket (not cumulative) counts, sum and count. */
export interface HistogramValue {
  readonly buckets: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** A series' value: a number, or a histogram's buckets. */
export type SeriesValue = number | HistogramValue;

/** One labelled series of a family. */
export interface Series {
  readonly values: Labels;
  readonly value: SeriesValue;
}

/** A metric family as plain data (structured-cloneable). */
export interface FamilySnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly labelNames: Labels;
  readonly series: readonly Series[];
}

/** A monotonically increasing count. */
export class CounterChild {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

/** A value that goes up and down. */
export class GaugeChild {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

/** Bucketed observations. */
export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

/** A counter family. */
export class Counter extends Metric<CounterChild> {
  readonly type = "counter";
  protected create(): CounterChild {
    return new CounterChild();
  }
  protected sample(c: CounterChild): number {
    return c.value;
  }
}

/** A gauge family. */
export class Gauge extends Metric<GaugeChild> {
  readonly type = "gauge";
  protected create(): GaugeChild {
    return new GaugeChild();
  }
  protected sample(g: GaugeChild): number {
    return g.value;
  }
}

/** A histogram family; `buckets` are upper bounds, ascending, without +Inf. */
export class Histogram extends Metric<HistogramChild> {
  readonly type = "histogram";
  constructor(name: string, help: string, labelNames: Labels, readonly buckets: readonly number[]) {
    super(name, help, labelNames);
  }
  protected create(): HistogramChild {
    return new HistogramChild(this.buckets);
  }
  protected sample(h: HistogramChild): HistogramValue {
    return { buckets: h.buckets, counts: [...h.counts], sum: h.sum, count: h.count };
  }
}

/** Holds metric families and renders them; hooks refresh derived gauges at scrape time. */
export class Registry {
  readonly #metrics: Metric<unknown>[] = [];
  readonly #beforeRender: (() => void)[] = [];

  counter(name: string, help: string, labelNames: Labels = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames: Labels = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }
  histogram(name: string, help: string, labelNames: Labels, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  /** Runs `hook` before each render, to set gauges derived from other state. */
  beforeRender(hook: () => void): void {
    this.#beforeRender.push(hook);
  }

  /** The Prometheus text exposition of every family. */
  render(): string {
    return renderFamilies(this.snapshot());
  }

  /** Every family as data, after the render hooks. */
  snapshot(): FamilySnapshot[] {
    for (const hook of this.#beforeRender) hook();
    return this.#metrics.map((m) => m.snapshot());
  }

  #add<M extends Metric<unknown>>(metric: M): M {
    if (this.#metrics.some((m) => m.name === metric.name)) {
      throw new Error(`metric ${metric.name} is registered twice`);
    }
    this.#metrics.push(metric);
    return metric;
  }
}

/** Content type of {@link Registry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The Prometheus text exposition (0.0.4) of `families`. */
export function renderFamilies(families: readonly FamilySnapshot[]): string {
  const out: string[] = [];
  for (const f of families) {
    // Exposition format 0.0.4: HELP escapes backslash and newline only.
    const help = f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
    out.push(`# HELP ${f.name} ${help}`, `# TYPE ${f.name} ${f.type}`);
    for (const { values, value } of f.series) {
      const labels = formatLabels(f.labelNames, values);
      if (typeof value === "number") out.push(`${f.name}${labels} ${value}`);
      else histogramLines(f.name, labels, value, out);
    }
  }
  return out.join("\n") + "\n";
}

function histogramLines(name: string, labels: string, h: HistogramValue, out: string[]): void {
  const le = (bound: string) =>
    labels === "" ? `{le="${bound}"}` : `${labels.slice(0, -1)},le="${bound}"}`;
  let cumulative = 0;
  for (let i = 0; i < h.buckets.length; i++) {
    cumulative += h.counts[i];
    out.push(`${name}_bucket${le(String(h.buckets[i]))} ${cumulative}`);
  }
  out.push(`${name}_bucket${le("+Inf")} ${h.count}`);
  out.push(`${name}_sum${labels} ${h.sum}`, `${name}_count${labels} ${h.count}`);
}

/**
 * Sums families from several registries of the same shape (one per worker):
 * series with the same labels add up (histograms bucket by bucket), and a
 * series any of them has appears. Families keep their first-seen order.
 */
export function mergeFamilies(sets: readonly (readonly FamilySnapshot[])[]): FamilySnapshot[] {
  const byName = new Map<string, { family: FamilySnapshot; series: Map<string, Series> }>();
  for (const set of sets) {
    for (const family of set) {
      let merged = byName.get(family.name);
      if (!merged) byName.set(family.name, merged = { family, series: new Map() });
      for (const s of family.series) {
        const key = s.values.join("\u0000");
        const before = merged.series.get(key);
        merged.series.set(
          key,
          before ? { values: s.values, value: add(before.value, s.value) } : s,
        );
      }
    }
  }
  return [...byName.values()].map(({ family, series }) => ({
    ...family,
    series: [...series.values()],
  }));
}

function add(a: SeriesValue, b: SeriesValue): SeriesValue {
  if (typeof a === "number" || typeof b === "number") {
    return (typeof a === "number" ? a : a.count) + (typeof b === "number" ? b : b.count);
  }
  return {
    buckets: a.buckets,
    counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

function formatLabels(names: Labels, values: Labels): string {
  if (names.length === 0) return "";
  const pairs = names.map((n, i) => `${n}="${escapeLabel(values[i])}"`);
  return `{${pairs.join(",")}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
