/**
 * PiCloud all-in-one, as `node packages/picloud/src/bin.ts` runs it, for the end-to-end
 * benchmark: configuration from the environment, plus BENCH_SINK=off to swap the
 * PostgreSQL execution-log sink for the null sink (everything else identical).
 */
import { startPicloud } from "../packages/picloud/src/start.ts";
import { NullSink } from "../packages/shared/src/index.ts";

const sinkOff = process.env["BENCH_SINK"] === "off";
await startPicloud(process.env, { installSignals: true, ...(sinkOff ? { sink: () => new NullSink() } : {}) });
