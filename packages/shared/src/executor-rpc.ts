import { z } from "zod";
import { SerializedErrorSchema } from "./execution.ts";
import {
  ExecutorStatsSchema,
  InvocationOutcomeSchema,
  InvocationRequestSchema,
  ScriptVersionRefSchema,
} from "./executor.ts";

/**
 * The executor RPC protocol (docs/executor.md, "Process model"): an Executor served over a
 * byte stream (the supervised child's pipe, a picloud-executor's TCP or unix socket). Each
 * frame is one {@link RpcEnvelope}: a call, its reply, or a one-way notice. Each method's
 * params and result are a schema here, and both ends validate what they receive.
 */

/** An error as plain data: nothing but strings crosses the wire. */
export const WireErrorSchema = SerializedErrorSchema;
export type WireError = z.infer<typeof WireErrorSchema>;

/** Calls (client → server), each answered by one reply. */
export const executorCalls = {
  /** Runs one invocation; never fails for a script's fault (that is an outcome). */
  invoke: { params: InvocationRequestSchema, result: InvocationOutcomeSchema },
  /** Readies an isolate for a just-saved version; answered once it is ready (or could not be made). */
  prepare: {
    params: z.object({ script: ScriptVersionRefSchema, memoryMb: z.number().int().positive() }),
    result: z.null(),
  },
  /** Whether the executor takes invocations. */
  ready: { params: z.null(), result: z.boolean() },
  stats: { params: z.null(), result: ExecutorStatsSchema },
} as const;

/** Notices: one-way, never answered. */
export const executorNotices = {
  /** Client → server: drop a script's isolates (all versions, or all but `keepVersion`). */
  evict: z.object({ scriptId: z.string(), keepVersion: z.number().int().optional() }),
  /** Server → client: the current stats (they also ride on replies, see `RpcReply.stats`). */
  stats: ExecutorStatsSchema,
} as const;

export type RpcCallMethod = keyof typeof executorCalls;
export type RpcNoticeMethod = keyof typeof executorNotices;
export type RpcParams<M extends RpcCallMethod> = z.infer<(typeof executorCalls)[M]["params"]>;
export type RpcResult<M extends RpcCallMethod> = z.infer<(typeof executorCalls)[M]["result"]>;
export type RpcNoticeParams<N extends RpcNoticeMethod> = z.infer<(typeof executorNotices)[N]>;

export type RpcCall = {
  [M in RpcCallMethod]: { t: "call"; id: number; method: M; params: RpcParams<M> };
}[RpcCallMethod];
export type RpcNotice = {
  [N in RpcNoticeMethod]: { t: "notify"; method: N; params: RpcNoticeParams<N> };
}[RpcNoticeMethod];
/**
 * The envelope of every frame, checked before anything else reads it: a frame that is not
 * one of these is a broken peer. Params and values are checked per method, by the side
 * that knows the method.
 */
export const RpcEnvelopeSchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("call"), id: z.number().int(), method: z.string(), params: z.unknown() }),
  z.discriminatedUnion("ok", [
    z.object({
      t: z.literal("reply"),
      id: z.number().int(),
      ok: z.literal(true),
      value: z.unknown(),
      stats: ExecutorStatsSchema.optional(),
    }),
    z.object({
      t: z.literal("reply"),
      id: z.number().int(),
      ok: z.literal(false),
      error: WireErrorSchema,
      stats: ExecutorStatsSchema.optional(),
    }),
  ]),
  z.object({ t: z.literal("notify"), method: z.string(), params: z.unknown() }),
]);
export type RpcEnvelope = z.infer<typeof RpcEnvelopeSchema>;

/** The answer to call `id`: its value is that method's result. The stats ride along when due. */
export type RpcReply = Extract<RpcEnvelope, { t: "reply" }>;

/** The method's params, validated; a ZodError describes what is wrong. */
export function parseRpcParams<M extends RpcCallMethod>(method: M, params: unknown): RpcParams<M> {
  return executorCalls[method].params.parse(params) as RpcParams<M>;
}

/** The method's result, validated. */
export function parseRpcResult<M extends RpcCallMethod>(method: M, value: unknown): RpcResult<M> {
  return executorCalls[method].result.parse(value) as RpcResult<M>;
}

export function isRpcCallMethod(method: string): method is RpcCallMethod {
  return Object.hasOwn(executorCalls, method);
}

export function isRpcNoticeMethod(method: string): method is RpcNoticeMethod {
  return Object.hasOwn(executorNotices, method);
}
