import { describe } from 'vitest';
import { defineNodeMatrixTest } from './nodeMatrix';

describe('node matrix: Node 26', () => {
  defineNodeMatrixTest(26);
});
