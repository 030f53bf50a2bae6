// Rng.setState: restoring a saved state in place continues the stream bit-exactly (dropout included).
import { describe, expect, it } from 'vitest';
import { Rng, TensorError, createRng, dropout, ones } from './index.js';

describe('Rng.setState', () => {
  it('restores in place: the same object replays the saved draws, as Rng.fromState does', () => {
    const rng = createRng(11);
    rng.normal();
    const saved = JSON.parse(JSON.stringify(rng.state()));
    const expected = [rng.uint32(), rng.random(), rng.normal(), rng.int(1000)];
    rng.random(); // move on, then rewind
    rng.setState(saved);
    expect([rng.uint32(), rng.random(), rng.normal(), rng.int(1000)]).toEqual(expected);
    const fresh = Rng.fromState(saved);
    expect([fresh.uint32(), fresh.random(), fresh.normal(), fresh.int(1000)]).toEqual(expected);
  });

  it('a module holding its rng resumes dropout bit-exactly after setState', () => {
    const rng = createRng(3);
    const x = ones([257]);
    dropout(x, 0.3, rng); // a first step
    const saved = rng.state();
    const next = dropout(x, 0.3, rng).data();
    const other = createRng(99); // a restarted process: a new rng, restored in place
    other.setState(saved);
    expect(dropout(x, 0.3, other).data()).toEqual(next);
  });

  it('rejects a state that is not four uint32 words with TENSOR_BAD_ARGUMENT', () => {
    const rng = createRng(1);
    const before = rng.state();
    for (const bad of [{ s: [1, 2, 3] }, { s: [1, 2, 3, -1] }, { s: [1, 2, 3, 2 ** 32] }, { s: [1, 2, 3, 0.5] }, null]) {
      let error: unknown;
      try {
        rng.setState(bad as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TensorError);
      expect((error as TensorError).code).toBe('TENSOR_BAD_ARGUMENT');
    }
    expect(rng.state()).toEqual(before); // unchanged by a rejected state
  });

  it('an all-zero state is mapped to a valid one, as the constructor does', () => {
    const a = createRng(0);
    a.setState({ s: [0, 0, 0, 0] });
    expect(a.state()).toEqual(Rng.fromState({ s: [0, 0, 0, 0] }).state());
    expect(Array.from({ length: 8 }, () => a.uint32()).some((w) => w !== 0)).toBe(true); // not stuck at zero
  });
});
