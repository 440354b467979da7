/** A sample's thumbnail object URL: cached at once when known, else read through the store. */
import { useEffect, useState } from 'react';
import { useLoupe } from '../state/react';
import { cachedThumbnailUrl } from '../state/thumbnails';

export function useThumbnailUrl(sampleId: string): string | null {
  const thumbnailUrl = useLoupe((s) => s.thumbnailUrl);
  const [url, setUrl] = useState(() => cachedThumbnailUrl(sampleId) ?? null);
  useEffect(() => {
    if (url) return;
    let alive = true;
    void thumbnailUrl(sampleId).then((u) => alive && setUrl(u));
    return () => {
      alive = false;
    };
  }, [sampleId, thumbnailUrl, url]);
  return url;
}
