/**
 * Live executions of a script over Server-Sent Events. The stream authenticates with the
 * session cookie (same origin, `withCredentials`), never with a token in the URL. There is
 * no polling: the browser's EventSource reconnects by itself after a dropped connection,
 * and when the server refused the stream (EventSource gives up), a new one is opened after
 * a pause, provided the session still holds.
 */
import type { ExecutionLogSummary } from "@picloud/shared";
import { api, logStreamUrl } from "./api.ts";

export type LiveState = "connecting" | "live" | "reconnecting";

export interface LiveHandlers {
  onExecution: (e: ExecutionLogSummary) => void;
  onState: (s: LiveState) => void;
  /** The stream is back after a gap: executions may have been missed. */
  onResume?: () => void;
  /** The session is gone: the stream is not reopened. */
  onSignedOut?: () => void;
}

export function subscribeExecutions(scriptId: string, h: LiveHandlers): () => void {
  let source: EventSource | null = null;
  let closed = false;
  let hadGap = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const open = () => {
    if (closed) return;
    const s = new EventSource(logStreamUrl(scriptId), { withCredentials: true });
    source = s;
    h.onState(hadGap ? "reconnecting" : "connecting");
    s.addEventListener("open", () => {
      h.onState("live");
      if (hadGap) h.onResume?.();
      hadGap = false;
    });
    s.addEventListener("error", () => {
      if (closed) return;
      hadGap = true;
      h.onState("reconnecting");
      if (s.readyState === EventSource.CLOSED) {
        // Refused (e.g. the session expired): ask before trying again.
        retry = setTimeout(async () => {
          const signedIn = await api.session().catch(() => true);
          if (closed) return;
          if (signedIn) open();
          else h.onSignedOut?.();
        }, 3000);
      }
    });
    s.addEventListener("execution", (ev) => {
      try {
        h.onExecution(JSON.parse((ev as MessageEvent<string>).data) as ExecutionLogSummary);
      } catch {
        // A malformed event is skipped; the next one may be fine.
      }
    });
  };

  open();
  return () => {
    closed = true;
    clearTimeout(retry);
    source?.close();
  };
}
