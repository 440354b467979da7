/** The thumbnail of an image in a Review list (a placeholder until it is loaded). */
import type { SampleMeta } from '../core/storage/schema';
import { useThumbnailUrl } from './useThumbnailUrl';

export function ReviewThumb({ sample }: { sample: SampleMeta }) {
  const url = useThumbnailUrl(sample.id);
  return url ? (
    <img src={url} alt={sample.name} className="review-thumb" />
  ) : (
    <span className="review-thumb thumb-placeholder" aria-hidden="true" />
  );
}
