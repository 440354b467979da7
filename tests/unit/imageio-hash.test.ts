import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/imageio';

const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 "abc" vector for Uint8Array and ArrayBuffer input', async () => {
    const abc = new TextEncoder().encode('abc');
    expect(await sha256Hex(abc)).toBe(ABC);
    expect(await sha256Hex(abc.slice().buffer)).toBe(ABC);
  });

  it('hashes the empty input', async () => {
    expect(await sha256Hex(new Uint8Array(0))).toBe(EMPTY);
  });

  it('hashes only the window of a view, not its whole buffer', async () => {
    const padded = new TextEncoder().encode('xxabcyy');
    expect(await sha256Hex(padded.subarray(2, 5))).toBe(ABC);
  });

  it('copies views onto a SharedArrayBuffer', async () => {
    const shared = new Uint8Array(new SharedArrayBuffer(3));
    shared.set(new TextEncoder().encode('abc'));
    expect(await sha256Hex(shared)).toBe(ABC);
  });
});
