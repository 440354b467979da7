// Accessibility in real Chromium: axe-core (the engine alone, evaluated into the page through
// playwright-core) finds no serious or critical violation on the project list, a board with real
// photos, the Review view, the Export dialog and the Keyboard shortcuts dialog.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Axe from 'axe-core';
import type { Page } from 'playwright-core';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';

declare global {
  interface Window {
    axe: typeof Axe;
  }
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), {
  encoding: 'utf8',
});

/**
 * The serious and critical violations on the page now, light and dark, one line per node. The
 * scan runs with reduced motion: an info notice caught mid-fade is half transparent for its last
 * 600 ms, and axe would judge that passing frame's contrast rather than the notice's own.
 */
async function seriousViolations(page: Page, scene: string): Promise<string[]> {
  const found: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    found.push(...(await violationsNow(page, `${scene}, ${colorScheme}`)));
  }
  await page.emulateMedia({ colorScheme: null, reducedMotion: null });
  return found;
}

async function violationsNow(page: Page, scene: string): Promise<string[]> {
  // page.evaluate is not subject to the page's Content-Security-Policy (a script tag would be).
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ['violations'] });
    if (results.passes.length === 0) throw new Error('axe checked nothing');
    return results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`),
      }));
  });
  return violations.flatMap((v) =>
    v.nodes.map((node) => `[${scene}] ${v.id} (${v.impact ?? '?'}) ${node}`),
  );
}

describe('accessibility', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it(
    'project list, board, Review, Export and shortcuts have no serious or critical axe violations',
    { timeout: 120_000 },
    async () => {
      const { page } = session;
      const found: string[] = [];
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl);
      found.push(...(await seriousViolations(page, 'empty project list')));

      const board = await projects.newProject('Accessible flowers');
      for (const cls of ['daisy', 'tulip']) await board.addLabel(cls);
      for (const cls of ['daisy', 'tulip']) {
        await board.pickFiles(cls, photos(cls, 0, 3));
        await board.expectCount(cls, 3);
      }
      await board.renderedThumbnails(board.region('tulip'));
      found.push(...(await seriousViolations(page, 'board')));
      await board.region('tulip').getByRole('option').first().click();
      await page.getByRole('region', { name: 'Image details' }).waitFor();
      found.push(...(await seriousViolations(page, 'board with a selected image')));
      await page.getByRole('button', { name: 'Clear selection' }).click();

      // With every embedding cached the Review lists fill in (items, thumbnails, actions).
      await page.waitForFunction(
        () => document.querySelector('[data-testid=embedded-count]')?.textContent === '6',
        undefined,
        { timeout: 60_000 },
      );
      await page.getByRole('button', { name: 'Review', exact: true }).click();
      const mislabels = page.getByRole('region', { name: 'Probable mislabels' });
      await mislabels
        .getByRole('listitem')
        .or(mislabels.getByText('No labelled image disagrees'))
        .first()
        .waitFor({ timeout: 60_000 });
      found.push(...(await seriousViolations(page, 'review')));
      await page.getByRole('button', { name: 'Review', exact: true }).click();

      await page.getByRole('button', { name: 'Export', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Export' });
      await dialog.waitFor();
      found.push(...(await seriousViolations(page, 'export dialog')));
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });

      await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
      const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await help.waitFor();
      found.push(...(await seriousViolations(page, 'shortcuts dialog')));
      await page.keyboard.press('Escape');
      await help.waitFor({ state: 'hidden' });

      await projects.goto(baseUrl);
      await projects.projectLink('Accessible flowers').waitFor();
      found.push(...(await seriousViolations(page, 'project list')));

      expect(found, found.join('\n')).toEqual([]);
      expect(session.pageErrors).toEqual([]);
      expect(session.crossOrigin()).toEqual([]);
    },
  );
});
