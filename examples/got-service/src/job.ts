import { createEkaAuth, type EkaAuth } from '@eka/auth-core';
import { ekaAuthHooks } from '@eka/auth-got';
import got, { type Got } from 'got';

export interface Item {
  id: number;
  name: string;
  page: number;
}

export interface JobConfig {
  /** Eka gateway, e.g. https://api.eka.care (or the emulator's URL). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** First page of a JSON-array API paginated with `Link: <…>; rel="next"` (relative to baseUrl). */
  itemsPath?: string;
  /** got's own retry: attempts after the first, and the cap of its back-off. */
  retry?: { limit?: number; backoffLimitMs?: number };
  log?: (line: string) => void;
}

export interface JobResult {
  items: Item[];
  /** Pages received (status 2xx). */
  pages: number;
  /**
   * Every re-send got made, as its `beforeRetry` hooks saw them: `got-retry` = got's own retry (5xx,
   * network); `auth-resend` = the Eka auth hooks re-sending a 401 with a fresh token
   * (`retryWithMergedOptions`, which got reports to `beforeRetry` as a `RetryError`).
   */
  retries: {
    kind: 'got-retry' | 'auth-resend';
    retryCount: number;
    status: number | undefined;
    url: string;
  }[];
}

/**
 * The service's got instance: base URL, JSON, got's own retry policy and logging hooks — then Eka
 * auth, extended last so it sees the final URL and the app's hooks run once per attempt.
 */
export function createEkaGot(config: JobConfig, auth: EkaAuth, retries: JobResult['retries'] = []): Got {
  const log = config.log ?? (() => {});
  const service = got.extend({
    prefixUrl: config.baseUrl,
    responseType: 'json',
    timeout: { request: 10_000 },
    retry: {
      limit: config.retry?.limit ?? 2,
      methods: ['GET'],
      statusCodes: [408, 429, 500, 502, 503, 504],
      backoffLimit: config.retry?.backoffLimitMs ?? 2_000,
    },
    hooks: {
      afterResponse: [
        (response) => {
          log(`← ${response.statusCode} ${response.url}`);
          return response;
        },
      ],
      beforeRetry: [
        (error, retryCount) => {
          const status = error.response?.statusCode;
          const url = String(error.options.url);
          const kind = error.name === 'RetryError' ? 'auth-resend' : 'got-retry';
          retries.push({ kind, retryCount, status, url });
          log(
            kind === 'got-retry'
              ? `↻ got retry #${retryCount} after ${status ?? error.code} for ${url}`
              : `↻ re-sent with a fresh token after ${status} for ${url}`,
          );
        },
      ],
    },
  });
  return service.extend(ekaAuthHooks(auth));
}

/** The backend job: fetch every item, page after page, following `Link: rel="next"`. */
export async function syncItems(config: JobConfig): Promise<JobResult> {
  const auth = createEkaAuth({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    baseUrl: config.baseUrl,
  });
  const result: JobResult = { items: [], pages: 0, retries: [] };
  const eka = createEkaGot(config, auth, result.retries);
  try {
    for await (const item of eka.paginate<Item>(config.itemsPath ?? 'api/items', {
      searchParams: { page: 1 },
      pagination: {
        // got's default `paginate` follows the Link header's rel="next"; this only counts the pages.
        transform: (response) => {
          result.pages++;
          return response.body as Item[];
        },
      },
    })) {
      result.items.push(item);
    }
    return result;
  } finally {
    auth.dispose();
  }
}
