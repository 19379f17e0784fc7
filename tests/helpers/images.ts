import sharp from "sharp";

let seq = 0;

/** A distinct colour per call, so every picture hashes differently (and the simulator picks other species). */
function nextColour() {
  seq += 1;
  const n = (seq * 2_654_435_761 + Date.now()) >>> 0;
  // Never near magenta: that colour is the simulator's "not a plant".
  return { r: (n & 0x7f) + 20, g: ((n >> 8) & 0x7f) + 100, b: ((n >> 16) & 0x7f) + 10 };
}

/** A real photo-sized JPEG of one colour. */
export async function jpeg(
  opts: { width?: number; height?: number; colour?: { r: number; g: number; b: number } } = {},
) {
  const { width = 640, height = 480 } = opts;
  const buffer = await sharp({
    create: { width, height, channels: 3, background: opts.colour ?? nextColour() },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  return new Uint8Array(buffer);
}

export async function png(opts: { width?: number; height?: number } = {}) {
  const { width = 320, height = 240 } = opts;
  const buffer = await sharp({
    create: { width, height, channels: 4, background: { ...nextColour(), alpha: 0.5 } },
  })
    .png()
    .toBuffer();
  return new Uint8Array(buffer);
}

export async function webp(opts: { width?: number; height?: number } = {}) {
  const { width = 320, height = 240 } = opts;
  const buffer = await sharp({ create: { width, height, channels: 3, background: nextColour() } })
    .webp()
    .toBuffer();
  return new Uint8Array(buffer);
}

/** A JPEG carrying EXIF with a camera make and a GPS position, like a phone photo. */
export async function jpegWithGps() {
  const buffer = await sharp({ create: { width: 400, height: 300, channels: 3, background: nextColour() } })
    .withExif({
      IFD0: { Make: "PlantPhone", Model: "Leaf 12" },
      IFD3: {
        GPSLatitudeRef: "N",
        GPSLatitude: "50/1 5/1 0/1",
        GPSLongitudeRef: "E",
        GPSLongitude: "14/1 25/1 0/1",
      },
    })
    .jpeg()
    .toBuffer();
  return new Uint8Array(buffer);
}

/** The simulator's "photo of a chair": Plant.id says not a plant, PlantNet answers 404 Species not found. */
export async function notAPlantJpeg() {
  return jpeg({ colour: { r: 255, g: 0, b: 255 } });
}

/**
 * A decompression bomb: a tiny PNG file whose header promises `width` x `height` pixels. Only the header is
 * written correctly; nothing needs to decode for the check to fire.
 */
export async function pngBomb(width = 10_000, height = 10_000): Promise<Uint8Array> {
  const buffer = await sharp({
    create: { width: 1, height: 1, channels: 3, background: { r: 0, g: 128, b: 0 } },
  })
    .png()
    .toBuffer();
  const bytes = new Uint8Array(buffer);
  // IHDR data starts at byte 16: width and height as big-endian uint32, then its CRC over type + data.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(bytes.subarray(12, 29)));
  return bytes;
}

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The first 60% of a real JPEG: a header that reads, pixel data that stops half way. */
export async function truncatedJpeg(): Promise<Uint8Array> {
  const full = await jpeg({ width: 800, height: 600 });
  return full.slice(0, Math.floor(full.length * 0.6));
}
