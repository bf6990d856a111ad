/**
 * `run()`, or a rejection once `ms` have passed without an answer. A synchronous throw
 * becomes a rejection, and a failure after the deadline is not reported as unhandled.
 */
export function withTimeout<T>(run: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => run())();
  work.catch(() => {});
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`execution-log write timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
