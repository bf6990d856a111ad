import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The Prometheus metrics of one process. One registry per process (not the global one)
 * so that tests can build several apps side by side.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly invocations: Counter<"script" | "status">;
  readonly duration: Histogram<"status">;
  readonly gateRejections: Counter<"scope">;
  readonly httpRequests: Counter<"status">;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "picloud_process_" });
    this.invocations = new Counter({
      name: "picloud_invocations_total",
      help: "Script invocations by script name and outcome status.",
      labelNames: ["script", "status"],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: "picloud_invocation_duration_seconds",
      help: "Invocation wall time, as the orchestrator measured it.",
      labelNames: ["status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.gateRejections = new Counter({
      name: "picloud_gate_rejections_total",
      help: "Requests shed by the concurrency gate before execution (global or per-script cap).",
      labelNames: ["scope"],
      registers: [this.registry],
    });
    this.httpRequests = new Counter({
      name: "picloud_http_requests_total",
      help: "HTTP requests answered by status class.",
      labelNames: ["status"],
      registers: [this.registry],
    });
  }

  /** A gauge whose value is read at scrape time. */
  gauge(name: string, help: string, read: () => number | Record<string, number>, label = "kind"): void {
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      collect() {
        const v = read();
        if (typeof v === "number") this.set(v);
        else for (const [k, n] of Object.entries(v)) this.set({ [label]: k }, n);
      },
    });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
