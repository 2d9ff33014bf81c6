/**
 * A stand-in for a third-party SDK installed from npm ("acme-records"), left exactly as its vendor
 * wrote it: it knows nothing about Eka auth and calls the global `fetch` directly — for Eka's API,
 * and for the vendor's own usage-telemetry endpoint on another origin.
 */

export interface AcmeRecordsOptions {
  /** Base URL of the Eka API, e.g. https://api.eka.care */
  apiBase: string;
  /** Where the SDK reports usage (the vendor's server). */
  telemetryUrl: string;
}

export interface AcmeResult {
  status: number;
  body: any;
}

const SDK_VERSION = 'acme-records/1.4.2';

async function toResult(response: Response): Promise<AcmeResult> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body };
}

export function createAcmeRecords(options: AcmeRecordsOptions) {
  return {
    /** GET a resource of the Eka API. */
    async lookup(path: string): Promise<AcmeResult> {
      const response = await fetch(new URL(path, options.apiBase), {
        headers: { accept: 'application/json', 'user-agent': SDK_VERSION },
      });
      return toResult(response);
    },

    /** Tell the vendor what was used. */
    async reportUsage(event: string): Promise<AcmeResult> {
      const response = await fetch(options.telemetryUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': SDK_VERSION },
        body: JSON.stringify({ event, sdk: SDK_VERSION }),
      });
      return toResult(response);
    },
  };
}
