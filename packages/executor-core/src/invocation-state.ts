import type { Budgets } from "@picloud/shared";
import { LogCollector } from "./log-collector.ts";
import type { HostFetchRequest, HostFetchResult } from "./sandbox/protocol.ts";

/** Per-invocation state the host callbacks work against. */
export interface InvocationState {
  readonly budgets: Budgets;
  readonly logs: LogCollector;
  readonly timers: Set<NodeJS.Timeout>;
  readonly abort: AbortController;
  /** In-flight fetches by id, for the script's AbortSignal. */
  readonly fetchAborts: Map<number, AbortController>;
  fetchCount: number;
  fetchBytes: number;
  /** Set when a fetch cap was hit: the outcome becomes budget_exceeded / fetch_limit. */
  fetchLimit: string | null;
}

/** Fresh state for one invocation under `budgets`. */
export function newInvocationState(budgets: Budgets): InvocationState {
  return {
    budgets,
    logs: new LogCollector(budgets.maxLogLines, budgets.maxLogBytes),
    timers: new Set(),
    abort: new AbortController(),
    fetchAborts: new Map(),
    fetchCount: 0,
    fetchBytes: 0,
    fetchLimit: null,
  };
}

/** Ends what an invocation left running on the host: its fetches and timers. */
export function endInvocationState(st: InvocationState): void {
  // Only a host fetch listens to the signal (and aborting builds a DOMException).
  if (st.fetchCount > 0) st.abort.abort();
  for (const t of st.timers) clearTimeout(t);
  st.timers.clear();
}

/** Performs an isolate's fetch on the host (see host-fetch.ts). */
export type HostFetcher = (req: HostFetchRequest, st: InvocationState) => Promise<HostFetchResult>;
