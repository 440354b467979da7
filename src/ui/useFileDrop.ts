/** Drag-and-drop of files and folders onto an element, with a hover state for styling. */
import { useState, type DragEvent } from 'react';
import type { PathedFile } from '../core/dataset/folders';
import { entriesFromDrop, filesFromSources, hasFiles } from './fileCollection';

export function useFileDrop(onFiles: (files: PathedFile[]) => void) {
  const [over, setOver] = useState(false);
  return {
    over,
    handlers: {
      onDragOver(e: DragEvent) {
        if (!hasFiles(e.dataTransfer)) return;
        e.preventDefault();
        e.stopPropagation();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      },
      onDragLeave(e: DragEvent) {
        if (e.currentTarget.contains(e.relatedTarget as Node | null)) return;
        setOver(false);
      },
      onDrop(e: DragEvent) {
        if (!hasFiles(e.dataTransfer)) return;
        e.preventDefault();
        e.stopPropagation();
        setOver(false);
        const sources = entriesFromDrop(e.dataTransfer);
        void filesFromSources(sources).then(onFiles);
      },
    },
  };
}
