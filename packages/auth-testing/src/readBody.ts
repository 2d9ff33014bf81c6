import { errorResponse } from './jsonResponse';

/** A parsed JSON object body, or the 4xx response that explains why there is none. */
export type JsonBodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

/**
 * Reads the whole body of `request`, or returns `'too-large'` (after cancelling the stream) as soon
 * as it exceeds `limitBytes`. A declared `Content-Length` over the limit is refused unread.
 */
export async function readBody(request: Request, limitBytes: number): Promise<Uint8Array | 'too-large'> {
  const body = request.body;
  if (!body) return new Uint8Array(0);
  if (Number(request.headers.get('content-length') ?? 0) > limitBytes) {
    await body.cancel().catch(() => undefined);
    return 'too-large';
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    size += next.value.byteLength;
    if (size > limitBytes) {
      await reader.cancel().catch(() => undefined);
      return 'too-large';
    }
    chunks.push(next.value);
  }
  return concatBytes(chunks, size);
}

/** Joins `chunks` (of `size` bytes in total) into one array. */
function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** True when the `Content-Type` header names `application/json` (parameters allowed). */
function isJsonContentType(contentType: string | null): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/** `bytes` as UTF-8 text, or `undefined` when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Reads a JSON object body the way the OpenAPI file declares it: `application/json`, at most
 * `limitBytes`, valid UTF-8 JSON, an object. Anything else → 415, 413 or 400 `{ code, error }`.
 */
export async function readJsonObject(request: Request, limitBytes: number): Promise<JsonBodyResult> {
  if (!isJsonContentType(request.headers.get('content-type'))) {
    await request.body?.cancel().catch(() => undefined);
    return { ok: false, response: errorResponse(415, 'content-type must be application/json') };
  }
  const bytes = await readBody(request, limitBytes);
  if (bytes === 'too-large') return { ok: false, response: errorResponse(413, 'request body too large') };
  const value = parseJson(decodeUtf8(bytes));
  if (value === undefined) return { ok: false, response: errorResponse(400, 'malformed JSON body') };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, response: errorResponse(400, 'JSON body must be an object') };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Parsed JSON, or `undefined` for missing or malformed text. */
function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
