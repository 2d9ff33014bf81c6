// Entry point for Cloudflare workerd: a module worker. POST the config as JSON, get the result as JSON.
import { runScenario } from './scenario.mjs';

export default {
  async fetch(request) {
    const result = await runScenario(await request.json());
    return Response.json(result);
  },
};
