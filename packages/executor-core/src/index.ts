export { type CompileOptions, compileScript } from "./compile.ts";
export { CompilerProcess, type CompilerProcessOptions } from "./compiler-process.ts";
export { type CreateExecutorOptions, createExecutor } from "./create-executor.ts";
export type { FetchPolicyOptions } from "./host-fetch.ts";
export { InProcessExecutor, type InProcessExecutorOptions } from "./in-process-executor.ts";
export { embeddedV4, isBlockedAddress } from "./ip-policy.ts";
export type { PoolOptions } from "./pool.ts";
export { ProcessExecutor, type ProcessExecutorOptions } from "./process-executor.ts";
export {
  type ExecutorAddress,
  formatExecutorAddress,
  isExecutorAddress,
  parseExecutorAddress,
  RemoteExecutor,
  type RemoteExecutorOptions,
} from "./remote-executor.ts";
export { type RpcClientOptions, RpcExecutorClient } from "./rpc/client.ts";
export { MAX_FRAME_BYTES, type RpcMessage, type WireError } from "./rpc/frames.ts";
export { serveExecutor } from "./rpc/server.ts";
export { scriptFilename } from "./sandbox.ts";
