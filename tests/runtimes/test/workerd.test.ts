import { describe } from 'vitest';
import { defineRuntimeTests } from './matrix';

describe('runtime matrix: workerd', () => {
  defineRuntimeTests('workerd');
});
