import type { Context } from "hono";

/** What @hono/node-server puts on `c.env`: the Node request, whose socket has the peer. */
interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
}

/**
 * The address a request came from: the TCP peer, or with `trustProxy` (the process sits
 * behind Caddy or another proxy that appends the peer it saw) the last `X-Forwarded-For`
 * entry. "unknown" when neither is there (in-memory test requests).
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = c.req.header("x-forwarded-for");
    const last = xff?.split(",").at(-1)?.trim();
    if (last) return last;
  }
  const env = c.env as NodeBindings | undefined;
  return env?.incoming?.socket?.remoteAddress ?? "unknown";
}
