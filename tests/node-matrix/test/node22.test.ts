import { describe } from 'vitest';
import { defineNodeMatrixTest } from './nodeMatrix';

describe('node matrix: Node 22', () => {
  defineNodeMatrixTest(22);
});
