import { randomFillSync } from "node:crypto";

let lastMs = 0;
let seq = 0;

// Random bytes drawn from the CSPRNG 4 KiB at a time: a `randomBytes` call per id was a
// measurable share of a small request's cost.
const POOL = Buffer.alloc(4096);
let poolAt = POOL.byteLength;
function random(n: number): Buffer {
  if (poolAt + n > POOL.byteLength) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const out = Buffer.from(POOL.subarray(poolAt, poolAt + n));
  poolAt += n;
  return out;
}

/**
 * A UUIDv7: 48-bit millisecond timestamp first, so ids sort by creation time and the
 * execution-log primary key doubles as a time index. A 12-bit counter keeps ids from one
 * process strictly increasing within the same millisecond.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now <= lastMs) {
    seq = (seq + 1) & 0xfff;
    if (seq === 0) lastMs += 1; // counter wrapped: borrow the next millisecond
    now = lastMs;
  } else {
    lastMs = now;
    seq = random(2).readUInt16BE(0) & 0x7ff; // random start, room to count up
  }
  const b = random(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | ((b[8] ?? 0) & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The millisecond timestamp inside a UUIDv7. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
