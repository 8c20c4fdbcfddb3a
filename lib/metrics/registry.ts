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
  protected abstract lines(prefix: string, labels: string, child: Child, out: string[]): void;

  render(out: string[]): void {
    // Exposition format 0.0.4: HELP escapes backslash and newline only.
    const help = this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
    out.push(`# HELP ${this.name} ${help}`, `# TYPE ${this.name} ${this.type}`);
    for (const { values, child } of this.#children.values()) {
      this.lines(this.name, formatLabels(this.labelNames, values), child, out);
    }
  }
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
  protected lines(name: string, labels: string, c: CounterChild, out: string[]): void {
    out.push(`${name}${labels} ${c.value}`);
  }
}

/** A gauge family. */
export class Gauge extends Metric<GaugeChild> {
  readonly type = "gauge";
  protected create(): GaugeChild {
    return new GaugeChild();
  }
  protected lines(name: string, labels: string, g: GaugeChild, out: string[]): void {
    out.push(`${name}${labels} ${g.value}`);
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
  protected lines(name: string, labels: string, h: HistogramChild, out: string[]): void {
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
    for (const hook of this.#beforeRender) hook();
    const out: string[] = [];
    for (const m of this.#metrics) m.render(out);
    return out.join("\n") + "\n";
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

function formatLabels(names: Labels, values: Labels): string {
  if (names.length === 0) return "";
  const pairs = names.map((n, i) => `${n}="${escapeLabel(values[i])}"`);
  return `{${pairs.join(",")}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
