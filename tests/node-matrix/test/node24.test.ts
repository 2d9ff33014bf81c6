import { describe } from 'vitest';
import { defineNodeMatrixTest } from './nodeMatrix';

describe('node matrix: Node 24', () => {
  defineNodeMatrixTest(24);
});
