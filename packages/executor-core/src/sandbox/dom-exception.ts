/** DOMException: the error type the web APIs throw (a name such as "AbortError" and a message). */
import type { DOMExceptionApi } from "./script-api.ts";

export class DOMException extends Error implements DOMExceptionApi {
  constructor(message = "", name = "Error") {
    super(message);
    Object.defineProperty(this, "name", { value: name, configurable: true, writable: true });
  }
}
