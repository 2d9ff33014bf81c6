import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSha256 } from '../src/sha256';

const reference = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('createSha256', () => {
  it.each([0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 100_003])('matches node:crypto for %i bytes', (size) => {
    const bytes = randomBytes(size);
    const hash = createSha256();
    hash.update(bytes);
    expect(hash.digestHex()).toBe(reference(bytes));
  });

  it('gives the same digest however the input is split', () => {
    const bytes = randomBytes(10_000);
    const hash = createSha256();
    for (let offset = 0, step = 1; offset < bytes.length; offset += step, step = (step * 7 + 3) % 200) {
      hash.update(bytes.subarray(offset, offset + step));
    }
    expect(hash.digestHex()).toBe(reference(bytes));
  });
});
