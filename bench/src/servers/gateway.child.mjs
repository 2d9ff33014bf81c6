// The Eka gateway emulator as a child process, for throughput runs against a realistic server
// (JWT checks, request ids, JSON echo) that shares neither the client's event loop nor its CPU count.
import { startEkaGateway } from '@eka/auth-testing';

const gateway = await startEkaGateway({ accessTokenTtlSec: 3600 });
process.send({ url: gateway.url, credentials: gateway.credentials });
process.on('disconnect', () => process.exit(0));
