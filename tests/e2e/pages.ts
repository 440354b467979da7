// Page objects: the e2e tests read like a user's steps, and selectors live in one place
// (accessible names from ../shared/UI-CONTRACT.md).
import type { Locator, Page } from 'playwright-core';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const SHARED = path.resolve(import.meta.dirname, '../../../shared');
export const FLOWERS = path.join(SHARED, 'datasets/flowers5-dev');

/** `n` real photos of flowers5-dev class `cls` (sorted by file name), from index `from`. */
export function photos(cls: string, from: number, n: number): string[] {
  return readdirSync(path.join(FLOWERS, cls))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(from, from + n)
    .map((f) => path.join(FLOWERS, cls, f));
}

export class ProjectsPage {
  constructor(readonly page: Page) {}
  /** Opens the project list; `debug` exposes the store handle some checks wait on. */
  async goto(baseUrl: string, options: { debug?: boolean } = {}): Promise<void> {
    await this.page.goto(`${baseUrl}/${options.debug ? '?debug=1' : ''}#/`);
    await this.page.getByRole('heading', { name: 'Projects' }).waitFor();
  }
  async newProject(name: string): Promise<BoardPage> {
    await this.page.getByRole('button', { name: 'New project' }).click();
    const board = new BoardPage(this.page);
    await board.projectName.waitFor();
    await board.projectName.fill(name);
    await board.projectName.press('Enter');
    return board;
  }
  projectLink(name: string): Locator {
    return this.page.getByRole('link', { name, exact: true });
  }
}

export class BoardPage {
  constructor(readonly page: Page) {}
  get projectName(): Locator {
    return this.page.getByRole('textbox', { name: 'Project name' });
  }
  region(label: string): Locator {
    return this.page.getByRole('region', { name: `${label} images`, exact: true });
  }
  get inbox(): Locator {
    return this.page.getByRole('region', { name: 'Unlabelled images', exact: true });
  }
  async addLabel(name: string): Promise<void> {
    const before = await this.page.getByRole('textbox', { name: 'Label name' }).count();
    await this.page.getByRole('button', { name: 'Add label' }).click();
    const field = this.page.getByRole('textbox', { name: 'Label name' }).nth(before);
    await field.waitFor();
    await field.fill(name);
    await field.press('Enter');
    await this.region(name).waitFor();
  }
  async pickFiles(label: string, files: string[]): Promise<void> {
    await this.page.getByLabel(`Add images to ${label}`, { exact: true }).setInputFiles(files);
  }
  /**
   * A real drop: Chromium builds the DataTransfer from the paths (files or folders) itself.
   * Notices above the board appear and fade, shifting the layout: the drop point is measured
   * again until the element under it belongs to the target, so the drop cannot land on the
   * region that moved into its place.
   */
  async dropPaths(target: Locator, paths: string[]): Promise<void> {
    await target.scrollIntoViewIfNeeded();
    let point: { x: number; y: number } | null = null;
    for (let attempt = 0; attempt < 50 && !point; attempt++) {
      const box = await target.boundingBox();
      if (!box) throw new Error('drop target is not visible');
      const p = { x: box.x + box.width / 2, y: box.y + Math.min(box.height / 2, 40) };
      const inside = await target.evaluate((el, { x, y }) => {
        const hit = document.elementFromPoint(x, y);
        return hit !== null && el.contains(hit);
      }, p);
      if (inside) point = p;
      else await this.page.waitForTimeout(100);
    }
    if (!point) throw new Error('the drop target stayed covered for 5 s');
    const cdp = await this.page.context().newCDPSession(this.page);
    const data = { items: [], files: paths, dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
      await cdp.send('Input.dispatchDragEvent', { type, ...point, data });
    }
    await cdp.detach();
  }
  /** A synthetic drop event carrying a DataTransfer built in the page from real file bytes. */
  async dropFilesAsDataTransfer(target: Locator, files: string[]): Promise<void> {
    const payload = files.map((f) => ({
      name: path.basename(f),
      b64: readFileSync(f).toString('base64'),
    }));
    await target.evaluate((el, items) => {
      const dt = new DataTransfer();
      for (const item of items) {
        const bin = atob(item.b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        const type = item.name.endsWith('.jpg')
          ? 'image/jpeg'
          : item.name.endsWith('.png')
            ? 'image/png'
            : 'text/plain';
        dt.items.add(new File([bytes], item.name, { type }));
      }
      for (const type of ['dragenter', 'dragover', 'drop']) {
        el.dispatchEvent(
          new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }),
        );
      }
    }, payload);
  }
  async waitForImportIdle(): Promise<void> {
    await this.page
      .getByRole('progressbar', { name: 'Importing images' })
      .waitFor({ state: 'detached', timeout: 240_000 });
  }
  async count(label: string): Promise<number> {
    const text = await this.page
      .getByLabel(new RegExp(`^\\d+ images in ${escapeRe(label)}$`))
      .textContent();
    return Number(text);
  }
  /**
   * Tries an image in the try panel and waits until the panel has answered this very try: the
   * Predictions list counts settled tries in `data-tries`, so trying the same image twice still
   * waits for the second answer. Throws when no answer comes or the try reported an error.
   */
  async tryImage(file: string): Promise<void> {
    const list = this.page.getByRole('list', { name: 'Predictions' });
    const tries = await list.getAttribute('data-tries');
    if (tries === null) throw new Error('the Predictions list has no data-tries count');
    const before = Number(tries);
    await this.page.getByLabel('Try an image').setInputFiles(file);
    await this.page.waitForFunction(
      ([el, n]) => Number((el as HTMLElement).dataset['tries']) > n,
      [await list.elementHandle(), before] as const,
      { timeout: 120_000 },
    );
    // A failed try leaves the previous predictions on screen; the store reports it as headsError.
    const error = this.page.getByRole('region', { name: 'Training' }).getByRole('alert');
    if ((await error.count()) > 0)
      throw new Error(`try failed: ${await error.first().textContent()}`);
  }
  /** Waits until the label shows `n` images (imports finish asynchronously). */
  async expectCount(label: string, n: number, timeout = 60_000): Promise<void> {
    await this.page
      .getByLabel(`${n} images in ${label}`, { exact: true })
      .waitFor({ timeout })
      .catch(async () => {
        throw new Error(`expected ${n} images in ${label}, found ${await this.count(label)}`);
      });
  }
  /** Names and pixel sizes of the thumbnails rendered in a region, once all have loaded. */
  async renderedThumbnails(region: Locator): Promise<string[]> {
    const imgs = region.locator('img');
    await this.page.waitForFunction(
      (el) => {
        const all = Array.from((el as HTMLElement).querySelectorAll('img'));
        return all.length > 0 && all.every((i) => i.complete && i.naturalWidth > 0);
      },
      await region.elementHandle(),
      { timeout: 30_000 },
    );
    const list = await imgs.evaluateAll((els) =>
      (els as HTMLImageElement[]).map((i) => `${i.alt}:${i.naturalWidth}x${i.naturalHeight}`),
    );
    return list.sort();
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
