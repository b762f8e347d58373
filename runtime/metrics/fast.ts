/**
 * Counters and histograms that cost next to nothing per update, for the hot paths (every store
 * call, every runtime call, every work-loop pass, every scheduling attempt). prom-client's own
 * build a closure, check the label names and hash the label object on every update; these find
 * their series by the label values alone (one Map lookup) and keep plain numbers. They are
 * registered in the component's prom-client `Registry` (`registerMetric`) and give it the same
 * shape prom-client's own metrics do, so the exposition text is prom-client's.
 */
import type { Labels } from "../../model/metrics.ts";

interface Value {
  labels?: Record<string, string | number>;
  sharedLabels?: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface MetricData {
  name: string;
  help: string;
  type: string;
  values: Value[];
  aggregator: string;
}

/** The series key of `labels`: their values in label-name order. */
function keyOf(names: readonly string[], labels: Labels | undefined): string {
  if (!labels || names.length === 0) return "";
  if (names.length === 1) return String(labels[names[0]]);
  let k = "";
  for (const n of names) k += `${labels[n]}\u0001`;
  return k;
}

function checkLabels(metric: string, names: readonly string[], labels: Labels | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (!names.includes(k)) throw new Error(`Added label "${k}" is not included in initial labelset of ${metric}: [${names.join(", ")}]`);
    out[k] = v;
  }
  return out;
}

function finite(metric: string, v: number): void {
  if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number for ${metric}: ${v}`);
}

/** Splits shared labels into each value's labels (prom-client's `get()` shape). */
function splay(data: MetricData): MetricData {
  return { ...data, values: data.values.map(({ sharedLabels, labels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })) };
}

interface CounterCell {
  labels: Record<string, string | number>;
  value: number;
}

export class FastCounter {
  readonly type = "counter";
  readonly aggregator = "sum";
  private readonly cells = new Map<string, CounterCell>();

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {
    if (labelNames.length === 0) this.cells.set("", { labels: {}, value: 0 });
  }

  inc(labels: Labels | undefined, value = 1): void {
    if (value < 0 || !Number.isFinite(value)) throw new Error(`counter ${this.name} can only go up by a finite amount, got ${value}`);
    this.cell(labels).value += value;
  }

  /**
   * The series of `labels`, its label set checked now and its cell found on the first `inc` and
   * kept (as prom-client, a series exists, and is printed, only once counted).
   */
  labels(labels?: Labels): { inc(value?: number): void } {
    checkLabels(this.name, this.labelNames, labels);
    let c: CounterCell | undefined;
    return {
      inc: (value = 1) => {
        if (value === 1) (c ??= this.cell(labels)).value++;
        else this.inc(labels, value);
      },
    };
  }

  private cell(labels: Labels | undefined): CounterCell {
    const key = keyOf(this.labelNames, labels);
    let c = this.cells.get(key);
    if (!c) this.cells.set(key, (c = { labels: checkLabels(this.name, this.labelNames, labels), value: 0 }));
    return c;
  }

  getForPromString(): MetricData {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.cells.values()].map((c) => ({ labels: c.labels, value: c.value })) };
  }

  get(): MetricData {
    return this.getForPromString();
  }

  reset(): void {
    for (const c of this.cells.values()) c.value = 0;
  }
}

interface HistogramCell {
  labels: Record<string, string | number>;
  /** Observations per bucket (not cumulative); those above the last bound only in `count`. */
  buckets: number[];
  sum: number;
  count: number;
  /** Dropped by a `reset`: a bound series finds its new cell. */
  dropped?: boolean;
}

export class FastHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly cells = new Map<string, HistogramCell>();
  private readonly bounds: number[];

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], buckets: readonly number[]) {
    this.bounds = [...buckets].sort((a, b) => a - b);
    if (labelNames.length === 0) this.cells.set("", this.newCell({}));
  }

  observe(labels: Labels | undefined, value: number): void {
    finite(this.name, value);
    this.add(this.cell(labels), value);
  }

  /**
   * The series of `labels`, its label set checked now and its cell found on the first `observe`
   * and kept until a `reset` drops it (as prom-client, a series is printed only once observed).
   */
  labels(labels?: Labels): { observe(value: number): void } {
    checkLabels(this.name, this.labelNames, labels);
    let c: HistogramCell | undefined;
    return {
      observe: (value: number) => {
        finite(this.name, value);
        if (!c || c.dropped) c = this.cell(labels);
        this.add(c, value);
      },
    };
  }

  private cell(labels: Labels | undefined): HistogramCell {
    const key = keyOf(this.labelNames, labels);
    let c = this.cells.get(key);
    if (!c) this.cells.set(key, (c = this.newCell(checkLabels(this.name, this.labelNames, labels))));
    return c;
  }

  private add(c: HistogramCell, value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    if (i < b.length) c.buckets[i]++;
    c.sum += value;
    c.count++;
  }

  getForPromString(): MetricData {
    const values: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.cells.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.buckets[i];
        values.push({ labels: { le: this.bounds[i] }, sharedLabels: c.labels, value: acc, metricName: bucket });
      }
      values.push(
        { labels: { le: "+Inf" }, sharedLabels: c.labels, value: c.count, metricName: bucket },
        { labels: {}, sharedLabels: c.labels, value: c.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: c.labels, value: c.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  get(): MetricData {
    return splay(this.getForPromString());
  }

  reset(): void {
    for (const c of this.cells.values()) c.dropped = true;
    this.cells.clear();
    if (this.labelNames.length === 0) this.cells.set("", this.newCell({}));
  }

  private newCell(labels: Record<string, string | number>): HistogramCell {
    return { labels, buckets: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
  }
}
