/**
 * Which held-out images sit in each cell of a single-label confusion matrix, so a cell can open
 * its images. Mirrors how `scoreHead` picks the scored items (an item is scored on its first label
 * that is in `labels`; items without one are not scored) and takes `scoreHead`'s `predicted`
 * indices for them. Predictions with no label (unknown) are in no cell, as in the matrix. Pure.
 */
export function confusionCells(
  validation: readonly { id: string; labelIds: readonly string[] }[],
  predicted: readonly (readonly number[])[],
  labels: readonly string[],
): string[][][] {
  const index = new Map<string, number>();
  labels.forEach((label, i) => {
    if (!index.has(label)) index.set(label, i);
  });
  const cells = labels.map(() => labels.map((): string[] => []));
  let scored = 0;
  for (const item of validation) {
    const truth = item.labelIds.map((l) => index.get(l)).find((i) => i !== undefined);
    if (truth === undefined) continue;
    const guess = predicted[scored]?.[0];
    scored++;
    if (guess !== undefined) cells[truth]?.[guess]?.push(item.id);
  }
  if (scored !== predicted.length)
    throw new Error(`confusionCells: ${scored} scored items but ${predicted.length} predictions`);
  return cells;
}
