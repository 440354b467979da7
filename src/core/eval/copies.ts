/**
 * Copies of one image among labelled examples: items whose embeddings are bit-for-bit equal (the
 * same pixels saved twice, e.g. with other metadata, embed alike), and items a caller groups (an
 * image and its augmented views). Splits keep each such group on one side (`SplitItem.group`), so
 * a copy in training never answers for its twin in validation and inflates the score, and early
 * stopping watches images the model has not seen.
 *
 * The key is a 64-bit hash of the embedding's bytes (two 32-bit FNV-1a streams with different
 * offsets): equal embeddings always share it; a collision of unequal ones, at odds of about n^2 /
 * 2^65, only keeps two images on the same side of a split.
 */

/** The embedding's 64-bit content hash as 16 hex digits. */
export function embeddingKey(embedding: Float32Array): string {
  const words = new Uint32Array(embedding.buffer, embedding.byteOffset, embedding.length);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? 0;
    a = Math.imul(a ^ (w & 0xffff), 0x01000193);
    a = Math.imul(a ^ (w >>> 16), 0x01000193);
    b = Math.imul(b ^ (w >>> 16), 0x01000193);
    b = Math.imul(b ^ (w & 0xffff), 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/**
 * Per item, the group it shares with its copies and with items of the same given `group` (e.g. an
 * image and its augmented views), merged transitively; undefined for an item that shares neither
 * (its splits then stay exactly as without groups). The returned names are only compared.
 */
export function splitGroups(
  items: readonly { embedding: Float32Array; group?: string | undefined }[],
): (string | undefined)[] {
  const parent = items.map((_, i) => i);
  const root = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r] ?? r;
    while (parent[i] !== r) {
      const next = parent[i] ?? r;
      parent[i] = r;
      i = next;
    }
    return r;
  };
  const firstWith = new Map<string, number>();
  const join = (key: string, i: number): void => {
    const first = firstWith.get(key);
    if (first === undefined) firstWith.set(key, i);
    else parent[root(i)] = root(first);
  };
  items.forEach((item, i) => {
    join(`e:${embeddingKey(item.embedding)}`, i);
    if (item.group !== undefined) join(`g:${item.group}`, i);
  });
  const sizes = new Map<number, number>();
  const roots = items.map((_, i) => root(i));
  for (const r of roots) sizes.set(r, (sizes.get(r) ?? 0) + 1);
  return roots.map((r) => ((sizes.get(r) ?? 0) > 1 ? `copies:${r}` : undefined));
}
