/** Short-lived notices in the corner ("Saved v3", "Copied", errors). */

export interface Toast {
  id: number;
  tone: "ok" | "error" | "info";
  message: string;
}

let next = 1;

class Toasts {
  items = $state<Toast[]>([]);

  show(message: string, tone: Toast["tone"] = "info", ms = 3500): void {
    const id = next++;
    this.items.push({ id, tone, message });
    setTimeout(() => this.dismiss(id), tone === "error" ? ms * 2 : ms);
  }

  ok(message: string): void {
    this.show(message, "ok");
  }

  error(message: string): void {
    this.show(message, "error");
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}

export const toasts = new Toasts();
