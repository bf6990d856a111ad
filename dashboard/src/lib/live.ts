/**
 * Live executions of a script over Server-Sent Events. The stream authenticates with the
 * session cookie (same origin, `withCredentials`), never with a token in the URL. The
 * browser's EventSource reconnects by itself; there is no polling.
 */
import type { ExecutionLogSummary } from "@picloud/shared";
import { logStreamUrl } from "./api.ts";

export type LiveState = "connecting" | "live" | "reconnecting";

export function subscribeExecutions(
  scriptId: string,
  onExecution: (e: ExecutionLogSummary) => void,
  onState: (s: LiveState) => void,
): () => void {
  const source = new EventSource(logStreamUrl(scriptId), { withCredentials: true });
  onState("connecting");
  source.addEventListener("open", () => onState("live"));
  source.addEventListener("error", () =>
    onState(source.readyState === EventSource.CLOSED ? "reconnecting" : "reconnecting"),
  );
  source.addEventListener("execution", (ev) => {
    try {
      onExecution(JSON.parse((ev as MessageEvent<string>).data) as ExecutionLogSummary);
    } catch {
      // A malformed event is skipped; the next one may be fine.
    }
  });
  return () => source.close();
}
