import { type FileHandle, mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";

/** A closed segment file, waiting to be read and deleted. */
export interface Segment {
  readonly path: string;
  readonly size: number;
}

const ACTIVE = "active.ndjson";
const SEALED = /^replay-\d+-\d+\.ndjson$/;

/**
 * A directory of NDJSON segment files. Lines are appended to `active.ndjson`; every
 * `segmentBytes` it is sealed (closed and renamed `replay-<ms>-<n>.ndjson`, so that names
 * sort oldest first), and sealed segments are read and deleted by their consumer. `open`
 * seals whatever an earlier process left, its active file included. File operations run one
 * at a time: an append, a rotation and a deletion never interleave.
 *
 * The spill store is built on it; issue 13's write-ahead file can be too (the same files and
 * recovery, with an fsync per group of appends).
 */
export class SegmentFiles {
  readonly dir: string;
  readonly #segmentBytes: number;
  readonly #sealed: Segment[] = [];
  #active: { fh: FileHandle; bytes: number } | null = null;
  #sealedBytes = 0;
  #rotations = 0;
  #ops: Promise<unknown> = Promise.resolve();

  constructor(o: { dir: string; segmentBytes: number }) {
    this.dir = o.dir;
    this.#segmentBytes = Math.max(1, o.segmentBytes);
  }

  /** Creates the directory and seals what an earlier process left; returns those segments, oldest first. */
  open(): Promise<Segment[]> {
    return this.#serial(async () => {
      await mkdir(this.dir, { recursive: true });
      const names = (await readdir(this.dir)).filter((n) => SEALED.test(n)).sort();
      const found: Segment[] = [];
      for (const n of names) {
        const path = join(this.dir, n);
        found.push({ path, size: (await stat(path)).size });
      }
      const active = join(this.dir, ACTIVE);
      const size = await stat(active).then(
        (s) => s.size,
        () => -1,
      );
      if (size >= 0) {
        const path = join(this.dir, `replay-${Date.now()}-000000.ndjson`);
        await rename(active, path);
        found.push({ path, size });
      }
      for (const s of found) this.#push(s);
      return found;
    });
  }

  /** Sealed segments, oldest first. */
  get sealed(): readonly Segment[] {
    return this.#sealed;
  }

  /** Bytes in the active file. */
  get activeBytes(): number {
    return this.#active?.bytes ?? 0;
  }

  /** Bytes on disk: sealed segments and the active file. */
  get bytes(): number {
    return this.#sealedBytes + this.activeBytes;
  }

  /** Appends `text` (whole lines, `bytes` long) to the active file; seals it once it reaches `segmentBytes`. */
  append(text: string, bytes: number): Promise<void> {
    return this.#serial(async () => {
      if (!this.#active) this.#active = { fh: await open(join(this.dir, ACTIVE), "a"), bytes: 0 };
      await this.#active.fh.appendFile(text);
      this.#active.bytes += bytes;
      if (this.#active.bytes >= this.#segmentBytes) await this.#rotate();
    });
  }

  /** Seals the active file now (a reader wants its rows). */
  seal(): Promise<void> {
    return this.#serial(() => this.#rotate());
  }

  /** Forgets a sealed segment and deletes its file (a file already gone is not an error). */
  remove(segment: Segment): Promise<void> {
    const i = this.#sealed.indexOf(segment);
    if (i >= 0) {
      this.#sealed.splice(i, 1);
      this.#sealedBytes -= segment.size;
    }
    return this.#serial(() => unlink(segment.path)).catch(() => {});
  }

  /** Closes the active file; it stays on disk and is sealed by the next `open`. */
  close(): Promise<void> {
    return this.#serial(async () => {
      const a = this.#active;
      this.#active = null;
      await a?.fh.close();
    }).catch(() => {});
  }

  async #rotate(): Promise<void> {
    if (!this.#active) return;
    const { fh, bytes } = this.#active;
    this.#active = null;
    await fh.close();
    const path = join(this.dir, `replay-${Date.now()}-${String(++this.#rotations).padStart(6, "0")}.ndjson`);
    await rename(join(this.dir, ACTIVE), path);
    this.#push({ path, size: bytes });
  }

  #push(segment: Segment): void {
    this.#sealed.push(segment);
    this.#sealedBytes += segment.size;
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#ops.then(op, op);
    this.#ops = run.catch(() => {});
    return run;
  }
}
