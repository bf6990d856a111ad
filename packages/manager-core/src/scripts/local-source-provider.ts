import type { ResolvedScript, ScriptSourceProvider } from "@picloud/shared";
import type { InvokeKeys } from "./invoke-keys.ts";
import type { ScriptService } from "./script-service.ts";

/** The orchestrator's view of scripts when the manager runs in the same process. */
export class LocalScriptSource implements ScriptSourceProvider {
  readonly #scripts: ScriptService;
  readonly #keys: InvokeKeys;
  constructor(scripts: ScriptService, keys: InvokeKeys) {
    this.#scripts = scripts;
    this.#keys = keys;
  }
  getCurrent(idOrName: string): Promise<ResolvedScript | null> {
    return this.#scripts.resolve(idOrName);
  }
  verifyInvokeKey(scriptId: string, key: string): Promise<boolean> {
    return this.#keys.verify(scriptId, key);
  }
}
