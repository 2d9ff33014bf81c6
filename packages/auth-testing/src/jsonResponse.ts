/** A JSON response with `status`, `body` and extra `headers`. */
export function jsonResponse(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
  });
}

/** An error in the OpenAPI `OpenapiGenericError` shape: `{ code, error }`. */
export function errorResponse(status: number, error: string, headers?: Record<string, string>): Response {
  return jsonResponse(status, { code: status, error }, headers);
}

/** A body given by a test: strings go out verbatim as text, anything else as JSON. */
export function customResponse(status: number, body: unknown, headers?: Record<string, string>): Response {
  if (typeof body !== 'string') return jsonResponse(status, body, headers);
  return new Response(body, { status, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' } });
}

/** Eka's answer to rejected credentials (captured 2024): HTTP 500 with body `code: 400`. */
export function badCredentialsResponse(): Response {
  return jsonResponse(500, { message: 'invalid credentials', code: 400 });
}

/** 405 with an `Allow` header. */
export function methodNotAllowed(allowed: readonly string[]): Response {
  return errorResponse(405, 'method not allowed', { allow: allowed.join(', ') });
}
