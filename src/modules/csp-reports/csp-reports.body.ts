import { AppError } from "../../core/app-error.ts";

/** The whole body, refusing it (413) as soon as it passes `maxBytes`, whatever Content-Length claimed. */
export async function readBodyBytes(req: Request, maxBytes: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new AppError("payload_too_large", `The body may be at most ${maxBytes} bytes.`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    const cause = (err as { cause?: unknown })?.cause;
    if (cause instanceof AppError) throw cause;
    throw new AppError("malformed_body", "The body could not be read.");
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
