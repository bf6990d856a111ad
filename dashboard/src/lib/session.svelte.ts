/** Whether the browser holds a dashboard session (the HttpOnly cookie itself is never readable). */
import { api } from "./api.ts";

class Session {
  state = $state<"unknown" | "signed-in" | "signed-out">("unknown");
  /** Where script endpoints live: the operator's separate script origin, else this one. */
  executeOrigin = $state<string | null>(null);

  /** The public URL of a script's endpoint path (e.g. `/api/execute/hello`). */
  endpointUrl(path: string): string {
    return `${this.executeOrigin ?? location.origin}${path}`;
  }

  async check(): Promise<void> {
    try {
      const s = await api.session();
      this.executeOrigin = s?.executeOrigin ?? null;
      this.state = s ? "signed-in" : "signed-out";
    } catch {
      // The server is unreachable: treat as signed out; the sign-in page says why on submit.
      this.state = "signed-out";
    }
  }

  async signIn(token: string): Promise<void> {
    await api.login(token);
    await this.check();
  }

  async signOut(): Promise<void> {
    try {
      await api.logout();
    } finally {
      this.state = "signed-out";
    }
  }
}

export const session = new Session();
