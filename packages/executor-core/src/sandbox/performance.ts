/** performance.now(): milliseconds since the isolate's runtime was loaded. */
import type { PerformanceApi } from "./script-api.ts";

const performanceOrigin = Date.now();
export const performance: PerformanceApi = { timeOrigin: performanceOrigin, now: () => Date.now() - performanceOrigin };
