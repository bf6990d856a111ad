import { BufferedLogSink, type BufferedSinkOptions, SpillStore } from "@picloud/log-pipeline";
import { type ExecutionLogInserter, PostgresLogWriter } from "./postgres-log-writer.ts";

export interface PostgresSinkOptions extends Omit<BufferedSinkOptions, "writer" | "spill"> {
  /** `ExecutionLogsRepository` (or a wrapper of it, e.g. one that publishes stored rows). */
  repository: ExecutionLogInserter;
  /** The spill files live in `<dataDir>/sink-spill/`. */
  dataDir: string;
  /** Bytes of spill files on disk (default 256 MiB); beyond it rows are dropped and counted. */
  maxSpillBytes?: number;
  /** The spill file is rotated (and can be replayed and deleted) every this many bytes (default min(8 MiB, maxSpillBytes / 4)). */
  spillSegmentBytes?: number;
}

/**
 * The execution-log sink of a process that owns the database (the all-in-one `picloud`):
 * log-pipeline's `BufferedLogSink` (batches, flush, backoff) with a `SpillStore` in
 * `<dataDir>/sink-spill/`, writing through `PostgresLogWriter` (docs/design.md, "The
 * execution-log pipeline").
 */
export class PostgresExecutionLogSink extends BufferedLogSink {
  constructor(o: PostgresSinkOptions) {
    const { repository, dataDir, maxSpillBytes, spillSegmentBytes, ...buffer } = o;
    super({
      ...buffer,
      writer: new PostgresLogWriter(repository),
      spill: SpillStore.inDataDir(dataDir, {
        maxBytes: maxSpillBytes,
        segmentBytes: spillSegmentBytes,
        logger: o.logger,
      }),
    });
  }
}
