/** Whether the browser holds a dashboard session (the HttpOnly cookie itself is never readable). */
import { api } from "./api.ts";

class Session {
  state = $state<"unknown" | "signed-in" | "signed-out">("unknown");

  async check(): Promise<void> {
    try {
      this.state = (await api.session()) ? "signed-in" : "signed-out";
    } catch {
      // The server is unreachable: treat as signed out; the sign-in page says why on submit.
      this.state = "signed-out";
    }
  }

  async signIn(token: string): Promise<void> {
    await api.login(token);
    this.state = "signed-in";
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
