// A minimal API + token server, run as a child process so it has its own event loop (and core) and
// its CPU time is not counted as the client's: the client side is what the benchmarks measure. It answers
// - POST /connect-auth/v1/account/login  → an Eka login answer with the fixed token
// - POST /token                           → an OAuth2 client-credentials answer with the same token
// - anything else                         → 200 {"ok":true} when `Authorization: Bearer <token>` is
//   present, 401 otherwise (so a client that forgot the token cannot look fast).
import { createServer } from 'node:http';

const token = process.env.BENCH_TOKEN;
const counters = { ok: 0, unauthorized: 0, tokenCalls: 0 };
const bearer = `Bearer ${token}`;
const OK = Buffer.from('{"ok":true}');
const UNAUTHORIZED = Buffer.from('{"message":"Unauthorized"}');
const EKA_LOGIN = Buffer.from(
  JSON.stringify({ access_token: token, refresh_token: 'r-1', expires_in: 3600, refresh_expires_in: 86400 }),
);
const OAUTH_TOKEN = Buffer.from(
  JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }),
);

const send = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
};

const server = createServer((req, res) => {
  if (req.method === 'POST') {
    req.resume();
    req.on('end', () => {
      counters.tokenCalls++;
      if (req.url === '/connect-auth/v1/account/login') send(res, 200, EKA_LOGIN);
      else if (req.url === '/token') send(res, 200, OAUTH_TOKEN);
      else send(res, 404, Buffer.from('{"error":"not found"}'));
    });
    return;
  }
  if (req.headers.authorization === bearer) {
    counters.ok++;
    send(res, 200, OK);
  } else {
    counters.unauthorized++;
    send(res, 401, UNAUTHORIZED);
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send({ url: `http://127.0.0.1:${server.address().port}` });
});
process.on('message', (message) => {
  if (message === 'stats') process.send({ stats: counters });
});
process.on('disconnect', () => process.exit(0));
