import { describe } from 'vitest';
import { defineRuntimeTests } from './matrix';

describe('runtime matrix: deno', () => {
  defineRuntimeTests('deno');
});
