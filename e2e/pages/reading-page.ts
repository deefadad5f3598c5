import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Locator,
  type Page,
  expect,
} from '@playwright/test';

/** Image-pixel box as stored in the scan document. */
export interface Box {
  readonly x_min: number;
  readonly y_min: number;
  readonly x_max: number;
  readonly y_max: number;
}

interface ViewInfo {
  scale: number;
  panX: number;
  panY: number;
  flipH: boolean;
  flipV: boolean;
  imageWidth: number;
  imageHeight: number;
  screenWidth: number;
  screenHeight: number;
}

export function parseBox(text: string | null): Box {
  const [x_min, y_min, x_max, y_max] = (text ?? '').split(',').map(Number);
  if ([x_min, y_min, x_max, y_max].some((v) => v === undefined || Number.isNaN(v))) {
    throw new Error(`not a box: ${text}`);
  }
  return { x_min: x_min as number, y_min: y_min as number, x_max: x_max as number, y_max: y_max as number };
}

/**
 * The reading screen of one user. Positions are given in image pixels or as fractions of the
 * image (OHIF style) and converted with the viewer's own published transform, so the specs
 * do not depend on the window size, zoom or flips. Every wait is on a UI signal.
 */
export class ReadingPage {
  readonly viewer: Locator;
  readonly status: Locator;
  readonly findingItems: Locator;

  constructor(readonly page: Page) {
    this.viewer = page.getByTestId('viewer');
    this.status = page.getByTestId('sync-status');
    this.findingItems = page.getByTestId('finding-item');
  }

  /**
   * A browser context already signed in as the user: the app keeps its log-in in
   * sessionStorage, so it is put there before any page script runs (the log-in form is covered
   * by the other specs; six members typing it would only slow this one down).
   */
  static async signedIn(
    browser: Browser,
    member: { token: string; user: Record<string, unknown> },
    options: BrowserContextOptions = {},
  ): Promise<{ context: BrowserContext; page: Page; reading: ReadingPage }> {
    const context = await browser.newContext(options);
    // about:blank (the new page before its first navigation) has no storage of its own.
    await context.addInitScript(
      (auth) => {
        if (location.protocol.startsWith('http')) sessionStorage.setItem('cxr.auth', JSON.stringify(auth));
      },
      {
        token: member.token,
        user: member.user,
      },
    );
    const page = await context.newPage();
    return { context, page, reading: new ReadingPage(page) };
  }

  async login(username: string, password: string): Promise<void> {
    await this.page.goto('/');
    await this.page.getByTestId('login-username').fill(username);
    await this.page.getByTestId('login-password').fill(password);
    await this.page.getByTestId('login-submit').click();
    await expect(this.page.getByTestId('session-list')).toBeVisible();
  }

  async open(sessionId: string, scanId: string): Promise<void> {
    await this.page.goto(`/sessions/${encodeURIComponent(sessionId)}/scans/${encodeURIComponent(scanId)}`);
    await this.waitReady();
  }

  /** The image (or its placeholder) is on screen and the document is live. */
  async waitReady(state: 'synced' | 'locked' | RegExp = /^(synced|locked)$/): Promise<void> {
    // Each page starts its own decode worker (module fetch and compile) before the first image
    // answer: six browser contexts doing so at once on two busy cores took over 10 s (the
    // consensus spec, 2026-11-27). How fast an image shows is the viewer bench's to measure.
    await expect(this.viewer).toHaveAttribute('data-image-state', /ready|placeholder/, { timeout: 30_000 });
    await expect(this.status).toHaveAttribute('data-sync-state', state);
  }

  async expectState(state: 'connecting' | 'synced' | 'offline' | 'locked' | 'refused'): Promise<void> {
    await expect(this.status).toHaveAttribute('data-sync-state', state);
  }

  async expectFindingsCount(n: number): Promise<void> {
    await expect(this.viewer).toHaveAttribute('data-findings-count', String(n));
  }

  private async view(): Promise<ViewInfo> {
    const raw = await this.viewer.getAttribute('data-view');
    if (!raw) throw new Error('the viewer publishes no data-view');
    return JSON.parse(raw) as ViewInfo;
  }

  /** Page coordinates of an image pixel, through the viewer's current transform. */
  async imageToPage(x: number, y: number): Promise<{ x: number; y: number }> {
    const v = await this.view();
    const rect = await this.viewer.boundingBox();
    if (!rect) throw new Error('viewer not visible');
    const sx = v.screenWidth / 2 + v.panX + v.scale * (v.flipH ? -1 : 1) * (x - v.imageWidth / 2);
    const sy = v.screenHeight / 2 + v.panY + v.scale * (v.flipV ? -1 : 1) * (y - v.imageHeight / 2);
    return { x: rect.x + sx, y: rect.y + sy };
  }

  /** The image pixel scale, to express tolerances in image pixels. */
  async imagePixelsPerScreenPixel(): Promise<number> {
    return 1 / (await this.view()).scale;
  }

  async drag(from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
    const mouse = this.page.mouse;
    await mouse.move(from.x, from.y);
    await mouse.down();
    await mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
    await mouse.move(to.x, to.y, { steps: 4 });
    await mouse.up();
  }

  /** Draws a box with the Box tool and gives it its labels through the picker's type-ahead. */
  async drawBox(box: Box, labels: readonly string[]): Promise<void> {
    await this.page.getByTestId('tool-draw').click();
    const before = await this.findingItems.count();
    await this.drag(
      await this.imageToPage(box.x_min, box.y_min),
      await this.imageToPage(box.x_max, box.y_max),
    );
    const picker = this.page.getByTestId('label-picker');
    await expect(picker).toBeVisible();
    for (const label of labels) {
      await picker.getByTestId('label-search').fill(label);
      await expect(picker.getByTestId('label-option').first()).toHaveAttribute('data-label', label);
      await picker.getByTestId('label-search').press('Enter');
      await expect(picker.locator(`[data-testid="label-option"][data-label="${label}"]`)).toHaveAttribute(
        'aria-pressed',
        'true',
      );
    }
    await picker.getByTestId('label-search').press('Escape');
    await expect(picker).toBeHidden();
    await expect(this.findingItems).toHaveCount(labels.length > 0 ? before + 1 : before);
  }

  finding(index = 0): Locator {
    return this.findingItems.nth(index);
  }

  async findingBox(index = 0): Promise<Box> {
    return parseBox(await this.finding(index).getAttribute('data-box'));
  }

  /** Drags a box by its middle by (dx, dy) image pixels. */
  async moveFinding(index: number, dx: number, dy: number): Promise<void> {
    const b = await this.findingBox(index);
    const cx = (b.x_min + b.x_max) / 2;
    const cy = (b.y_min + b.y_max) / 2;
    await this.page.getByTestId('tool-select').click();
    await this.drag(await this.imageToPage(cx, cy), await this.imageToPage(cx + dx, cy + dy));
  }

  globalLabel(label: string): Locator {
    return this.page.getByTestId(`global-label-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`);
  }

  async toggleGlobal(label: string): Promise<void> {
    const button = this.globalLabel(label);
    const was = await button.getAttribute('aria-pressed');
    await button.click();
    await expect(button).toHaveAttribute('aria-pressed', was === 'true' ? 'false' : 'true');
  }
}
