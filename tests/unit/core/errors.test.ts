import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CATALOGUE, errorCode, httpStatus, isErrorCode } from '../../../src/core/errors.js';

describe('error catalogue', () => {
  it('docs/errors.md lists every code once, with the catalogue status and meaning', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \| (\d{3}) \| (.+) \|$/gm)].map((m) => [
      m[1],
      Number(m[2]),
      m[3],
    ]);
    expect(rows).toEqual(Object.entries(ERROR_CATALOGUE).map(([code, v]) => [code, v.status, v.meaning]));
  });

  it('maps our errors to their code and status, and anything else to INTERNAL', () => {
    expect(errorCode(new AppError('LIMIT_STREAMS', 'full'))).toBe('LIMIT_STREAMS');
    expect(httpStatus('LIMIT_STREAMS')).toBe(429);
    expect(errorCode(new Error('boom'))).toBe('INTERNAL');
    expect(httpStatus('INTERNAL')).toBe(500);
    expect(isErrorCode('BAD_URL')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });
});
