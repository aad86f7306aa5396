// A minimal protobuf wire-format reader. The ONNX walker uses it instead of a full decoder so that
// weight payloads (raw_data, or float_data that a full decoder turns into millions of JS numbers)
// are skipped by length without being materialised.

/** Protobuf wire types. */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

/** A cursor over one message's bytes. */
export class ProtoReader {
  private pos: number;
  private readonly view: DataView;

  /** Reads `bytes[start, end)`; the bytes are only read, never retained beyond this reader. */
  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Whether the message has more fields. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** Reads the next field key: [field number, wire type]. */
  key(): [number, number] {
    const k = this.varint();
    return [Math.floor(k / 8), k % 8];
  }

  /** Reads an unsigned varint as a number (exact up to 2^53, which covers every size in a model). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('Truncated protobuf varint');
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error('Malformed protobuf varint');
  }

  /** Reads an int64 varint; negative values (10-byte two's complement) come back negative. */
  int64(): number {
    const start = this.pos;
    const v = this.varint();
    if (this.pos - start < 10) return v;
    // Only negative int64s use all ten bytes; re-read them exactly with BigInt.
    let big = 0n;
    for (let i = 9; i >= 0; i--) big = (big << 7n) | BigInt(this.bytes[start + i]! & 0x7f);
    return Number(BigInt.asIntN(64, big));
  }

  /** Reads a little-endian float32 (wire type 5). */
  float(): number {
    if (this.pos + 4 > this.end) throw new Error('Truncated protobuf float');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Reads a length prefix and returns the [start, end) of the field's bytes, moving past them. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Error('Truncated protobuf field');
    this.pos = start + len;
    return [start, start + len];
  }

  /** A reader over the embedded message that follows. */
  message(): ProtoReader {
    const [s, e] = this.span();
    return new ProtoReader(this.bytes, s, e);
  }

  /** The unread rest of this message, as a view (no copy). */
  bytesLeft(): Uint8Array {
    return this.bytes.subarray(this.pos, this.end);
  }

  /** Reads a length-delimited UTF-8 string. */
  string(): string {
    const [s, e] = this.span();
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + s, e - s).toString('utf8');
  }

  /** Reads a repeated int64 field element: packed (wire 2) gives all, unpacked (wire 0) gives one. */
  int64s(wire: number, into: number[]): void {
    if (wire !== WireType.LengthDelimited) {
      into.push(this.int64());
      return;
    }
    const packed = this.message();
    while (packed.more()) into.push(packed.int64());
  }

  /** Reads a repeated float field element: packed (wire 2) gives all, unpacked (wire 5) gives one. */
  floats(wire: number, into: number[]): void {
    if (wire !== WireType.LengthDelimited) {
      into.push(this.float());
      return;
    }
    const packed = this.message();
    while (packed.more()) into.push(packed.float());
  }

  /** Reads a repeated double field element (as numbers): packed (wire 2) gives all, unpacked (wire 1) one. */
  doubles(wire: number, into: number[]): void {
    const one = (r: ProtoReader): void => {
      if (r.pos + 8 > r.end) throw new Error('Truncated protobuf double');
      into.push(r.view.getFloat64(r.pos, true));
      r.pos += 8;
    };
    if (wire !== WireType.LengthDelimited) {
      one(this);
      return;
    }
    const packed = this.message();
    while (packed.more()) one(packed);
  }

  /** Skips a field of the given wire type. */
  skip(wire: number): void {
    switch (wire) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.span();
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        throw new Error(`Unsupported protobuf wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new Error('Truncated protobuf field');
    this.pos += n;
  }
}
