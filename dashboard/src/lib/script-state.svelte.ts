/**
 * The script being viewed: its detail, the editor draft (kept while switching tabs),
 * and the save/rollback actions. Shared by the script pages through a context.
 */
import type { ScriptDetail, UpdateScriptInput } from "@picloud/shared";
import { createContext } from "svelte";
import { ApiError, api } from "./api.ts";

export interface SyntaxProblem {
  message: string;
  /** 1-based line; column is 1-based when the server gives one. */
  line: number;
  column: number | null;
}

/** Reads line/column from a 400 answer: `details.line/column`, or "(line L, column C)" in the message. */
export function syntaxProblemOf(e: unknown): SyntaxProblem | null {
  if (!(e instanceof ApiError) || e.status !== 400) return null;
  const d = e.details ?? {};
  let line = typeof d["line"] === "number" ? d["line"] : null;
  let column = typeof d["column"] === "number" ? d["column"] : null;
  if (line === null) {
    const m = /line (\d+)(?:,\s*column (\d+))?/i.exec(e.message);
    if (m) {
      line = Number(m[1]);
      column = m[2] ? Number(m[2]) : null;
    }
  }
  return line === null ? null : { message: e.message, line, column };
}

export class ScriptState {
  /** Name or id from the URL. */
  readonly ref: string;
  script = $state<ScriptDetail | null>(null);
  loading = $state(true);
  loadError = $state<ApiError | Error | null>(null);
  draft = $state("");
  saving = $state(false);
  saveError = $state<string | null>(null);
  syntax = $state<SyntaxProblem | null>(null);
  /** Bumped whenever the draft is replaced from outside the editor (load, rollback). */
  draftEpoch = $state(0);
  dirty = $derived(this.script !== null && this.draft !== this.script.source);

  constructor(ref: string) {
    this.ref = ref;
  }

  async load(): Promise<void> {
    this.loading = true;
    this.loadError = null;
    try {
      this.replace(await api.getScript(this.ref));
    } catch (e) {
      this.loadError = e instanceof Error ? e : new Error(String(e));
    } finally {
      this.loading = false;
    }
  }

  /** Takes a fresh detail from the server, replacing the draft. */
  replace(detail: ScriptDetail): void {
    this.script = detail;
    this.draft = detail.source;
    this.syntax = null;
    this.saveError = null;
    this.draftEpoch++;
  }

  /** Takes a detail after a settings change, keeping an unsaved draft. */
  merge(detail: ScriptDetail): void {
    const wasDirty = this.dirty;
    const draft = this.draft;
    this.script = detail;
    if (wasDirty) this.draft = draft;
    else {
      this.draft = detail.source;
      this.draftEpoch++;
    }
  }

  /** Saves the draft; answers the new version, or null when nothing was saved. */
  async save(): Promise<number | null> {
    const s = this.script;
    if (!s || this.saving) return null;
    if (!this.dirty) return null;
    this.saving = true;
    this.saveError = null;
    const source = this.draft;
    try {
      const detail = await api.updateScript(s.id, { source });
      this.script = detail;
      this.syntax = null;
      // Keep typing made while the save was in flight.
      if (this.draft === source) this.draft = detail.source;
      return detail.version;
    } catch (e) {
      this.syntax = syntaxProblemOf(e);
      this.saveError = e instanceof Error ? e.message : String(e);
      return null;
    } finally {
      this.saving = false;
    }
  }

  async update(input: UpdateScriptInput): Promise<ScriptDetail> {
    const s = this.script;
    if (!s) throw new Error("script not loaded");
    const detail = await api.updateScript(s.id, input);
    this.merge(detail);
    return detail;
  }

  async rollback(version: number): Promise<ScriptDetail> {
    const s = this.script;
    if (!s) throw new Error("script not loaded");
    const detail = await api.rollback(s.id, version);
    this.replace(detail);
    return detail;
  }

  discard(): void {
    if (!this.script) return;
    this.draft = this.script.source;
    this.syntax = null;
    this.saveError = null;
    this.draftEpoch++;
  }
}

export const [getScriptState, setScriptState] = createContext<ScriptState>();
