// Broken and hostile image files, generated so that no binary junk is committed.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { IMAGES } from './paths';

/** A valid PNG whose IHDR claims `width`×`height` (checksum fixed), i.e. a decompression bomb header. */
export function pngClaiming(width: number, height: number): Buffer {
  const png = Buffer.from(readFileSync(path.join(IMAGES, 'chelsea.png')));
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29); // CRC over chunk type + 13 data bytes
  return png;
}

/** The first half of a real JPEG. */
export function truncatedJpeg(): Buffer {
  const jpg = readFileSync(path.join(IMAGES, 'orange.jpg'));
  return jpg.subarray(0, jpg.length >> 1);
}
