// A histogram for the hottest paths (every request, every statement), whose label sets are
// bound once: an observation is then a bucket search and three additions. prom-client's own
// Histogram validates and hashes its labels on every observation, about 1 µs, which a check-in
// paid three times (1.9 % of its CPU under `npm run bench:profile`). It lives in a prom-client
// registry, which reads it through get() as it reads its own metrics and writes the same
// exposition: cumulative `_bucket` series with `le`, then `_sum` and `_count`.
import type { Registry } from 'prom-client';

interface Series {
  labels: Record<string, string>;
  counts: Float64Array;
  sum: number;
  count: number;
}

interface Value {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export class BoundHistogram<Label extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly Label[],
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The recorder of one label set, in seconds (or the histogram's unit): bind once, call often. */
  bind(labels: Record<Label, string>): (value: number) => void {
    const key = JSON.stringify(this.labelNames.map((name) => labels[name]));
    let series = this.series.get(key);
    if (!series) {
      series = {
        labels: Object.fromEntries(this.labelNames.map((name) => [name, labels[name]])),
        counts: new Float64Array(this.buckets.length),
        sum: 0,
        count: 0,
      };
      this.series.set(key, series);
    }
    const bound = series;
    const buckets = this.buckets;
    return (value) => {
      let index = 0;
      while (index < buckets.length && value > buckets[index]) index += 1;
      if (index < buckets.length) bound.counts[index] += 1;
      bound.sum += value;
      bound.count += 1;
    };
  }

  async get() {
    const values: Value[] = [];
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((upper, index) => {
        cumulative += counts[index];
        values.push({ metricName: `${this.name}_bucket`, labels: { le: upper, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels, value: sum });
      values.push({ metricName: `${this.name}_count`, labels, value: count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Zeroes every series (registry.resetMetrics); bound recorders keep recording into them. */
  reset(): void {
    for (const series of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
