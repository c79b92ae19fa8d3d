// The check-in's memo of release manifests (server/storage/manifest-memo.ts) and the
// `known` texts canonicalize takes from it: remembered only while the stored text is the same,
// frozen because every answer shares it, bounded, and never changing a signed byte.
import t from 'tap';
import { createManifestMemo } from '../../server/storage/manifest-memo.js';
import { canonicalize } from '../../signing/canonical.js';

const text = (notes: string) =>
  JSON.stringify({
    signed: { type: 'release', version: '2.0.0', notes, artifact: { size: 1, sha256: 'ab' } },
    signatures: [{ keyid: 'k', sig: 's' }],
  });

t.test('the same text gives the same frozen object; another text is parsed afresh', async (t) => {
  const memo = createManifestMemo();
  const first = memo.manifestOf({ id: 'r1', manifest: text('one') });
  t.equal(memo.manifestOf({ id: 'r1', manifest: text('one') }), first, 'remembered');
  t.ok(Object.isFrozen(first) && Object.isFrozen(first.signed) && Object.isFrozen(first.signatures[0]), 'frozen all the way down');
  t.throws(
    () => {
      (first.signed as { notes: string }).notes = 'changed';
    },
    TypeError,
    'a holder cannot change what others share',
  );
  const changed = memo.manifestOf({ id: 'r1', manifest: text('two') });
  t.not(changed, first);
  t.equal((changed.signed as { notes: string }).notes, 'two', 'a different stored text is not answered from memory');
  t.notOk(memo.known.has(first), 'the old text is forgotten');
  t.equal(memo.known.get(changed), canonicalize(changed));
});

t.test("canonical text through known is byte for byte canonicalize's own", async (t) => {
  const memo = createManifestMemo();
  const manifest = memo.manifestOf({ id: 'r1', manifest: text('caf\u00e9 \u2028 "quoted"') });
  const answer = { type: 'checkin', nonce: 'ab', assignment: { id: 'p', manifest }, diagnostics: null };
  t.equal(canonicalize(answer, memo.known), canonicalize(answer));
  // And known is really used: a (wrong) text listed for an object is what comes out.
  t.equal(canonicalize({ a: manifest }, new Map([[manifest, '"listed"']])), '{"a":"listed"}');
});

t.test('bounded: full memory is cleared, answers stay right', async (t) => {
  const memo = createManifestMemo(2);
  const a = memo.manifestOf({ id: 'a', manifest: text('a') });
  memo.manifestOf({ id: 'b', manifest: text('b') });
  memo.manifestOf({ id: 'c', manifest: text('c') });
  t.ok(memo.known.size <= 2, 'never more than the limit');
  const again = memo.manifestOf({ id: 'a', manifest: text('a') });
  t.same(again, a);
  t.equal(memo.known.get(again), canonicalize(a));
});
