/**
 * The bundled web client in a real headless Chromium against the real server (`node dist/cli/main.js serve`, a child
 * process): publish the fake webcam (a Y4M made at test time from the shared video) and see a labelled face box over
 * the live video; a second page's event log sees the stream's `face.new`; watch the stream (snapshot, bars,
 * timeline); add an RTSP camera (GStreamer on loopback) through the page, see it go live, remove it and see it and its
 * ffmpeg go; with tokens configured, see the page refused without them and working with them. Screenshots go to
 * test-output/; with UPDATE_DOCS_SCREENSHOT=1 also to docs/img/web-client.png (the README's picture).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMOTION_LABELS } from '../../src/core/labels.js';
import { childProcesses } from '../fixtures/childProcesses.js';
import { freePort, type RtspTestServer, startRtspServer } from '../fixtures/rtspServer.js';
import {
  CHROMIUM_FLAGS,
  makeY4m,
  OUTPUT,
  ROOT,
  requireBuiltServer,
  type ServerProcess,
  sleep,
  startServer,
  stopServer,
  timer,
  until,
} from './webClientHarness.js';

let dir: string;
let server: ServerProcess;
let rtsp: RtspTestServer;
let browser: Browser;
let context: BrowserContext;

async function openPage(): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  await page.goto(server.url);
  await page.waitForSelector('html[data-ready="1"]', { timeout: 10_000 });
  return page;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-webclient-'));
  requireBuiltServer();
  // The client is built by `npm run build`; rebuild it here (well under a second) so the test runs today's sources.
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-web-client.mjs')], { stdio: 'ignore' });
  const y4m = makeY4m(dir);
  // Both settle before a failure is reported, so that afterAll stops whichever did start.
  const [camera, emostream] = await Promise.allSettled([freePort().then((p) => startRtspServer(p)), startServer(dir)]);
  if (camera.status === 'fulfilled') rtsp = camera.value;
  if (emostream.status === 'fulfilled') server = emostream.value;
  if (camera.status === 'rejected') throw camera.reason;
  if (emostream.status === 'rejected') throw emostream.reason;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, `--use-file-for-fake-video-capture=${y4m}`],
  });
  context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
  mkdirSync(OUTPUT, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  const stopping = Date.now();
  const code = server ? await stopServer(server) : 0;
  if (server) console.log(`emostream serve stopped with exit code ${code} in ${Date.now() - stopping} ms`);
  await rtsp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (code !== 0) console.error(`emostream serve exited with ${code}:\n${server.output().slice(-4000)}`);
});

describe('web client in Chromium against the real server', () => {
  let publisher: Page;
  let streamId: string;

  it('publishes the webcam and draws a labelled face box over the live video; a second page sees face.new', async () => {
    const watcher = await openPage();
    await watcher.waitForSelector('#log[data-events="open"]', { timeout: 10_000 });

    publisher = await openPage();
    const t0 = Date.now();
    await publisher.getByRole('button', { name: 'Start webcam' }).click();
    await publisher.waitForSelector('#publish[data-state="live"]', { timeout: 20_000 });
    streamId = (await publisher.getAttribute('#publish', 'data-stream-id')) ?? '';
    expect(streamId).not.toBe('');
    await publisher.waitForFunction(
      () => Number(document.querySelector<HTMLElement>('#publish')?.dataset.faces) > 0,
      null,
      {
        timeout: 60_000,
        polling: 100,
      },
    );
    console.log(`first face box on the page ${Date.now() - t0} ms after clicking Start`);

    const state = await publisher.evaluate(() => {
      const video = document.querySelector('video') as HTMLVideoElement;
      const canvas = document.querySelector('#publish-overlay') as HTMLCanvasElement;
      const px =
        canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
      let drawn = 0;
      for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) drawn++;
      const items = Array.from(document.querySelectorAll<HTMLElement>('#publish-faces li[data-label]'));
      return {
        videoWidth: video.videoWidth,
        playing: !video.paused && video.currentTime > 0,
        drawn,
        canvasPixels: canvas.width * canvas.height,
        labels: items.map((li) => li.dataset.label ?? ''),
        tracks: items.map((li) => li.dataset.track ?? ''),
      };
    });
    expect(state.videoWidth).toBeGreaterThan(0);
    expect(state.playing).toBe(true);
    expect(state.labels.length).toBeGreaterThan(0);
    for (const label of state.labels) expect(EMOTION_LABELS).toContain(label);
    for (const track of state.tracks) expect(track.startsWith(`${streamId}/`)).toBe(true);
    // Boxes, labels and bars are on the overlay: some pixels, but far from all of them.
    expect(state.drawn).toBeGreaterThan(200);
    expect(state.drawn).toBeLessThan(state.canvasPixels / 2);
    await publisher.locator('#publish').screenshot({ path: join(OUTPUT, 'web-client-publish.png') });

    // The second page's log (subscribed to every stream) has this stream's face.new.
    await watcher.selectOption('#log-type', 'face.new', { timeout: 10_000 });
    await watcher.waitForSelector(`#log-list li[data-type="face.new"][data-stream="${streamId}"]`, { timeout: 10_000 });
    await watcher.close();
  });

  it('watches the published stream: snapshot, live bars per face and the valence timeline', async () => {
    const row = publisher.locator(`#streams-body tr[data-stream-id="${streamId}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getAttribute('data-kind')).toBe('webrtc');
    await row.getByRole('button', { name: /^Watch/ }).click();
    await publisher.waitForFunction(
      () => Number(document.querySelector<HTMLElement>('#watch')?.dataset.snapshots) >= 2,
      null,
      {
        timeout: 20_000,
      },
    );
    const snapshot = await publisher.evaluate(() => {
      const img = document.querySelector('#watch-snapshot') as HTMLImageElement;
      return { w: img.naturalWidth, h: img.naturalHeight };
    });
    expect(snapshot.w).toBeGreaterThan(0);
    expect(snapshot.h).toBeGreaterThan(0);
    await publisher.waitForFunction(
      () => Number(document.querySelector<HTMLElement>('#watch-faces')?.dataset.count) > 0,
      null,
      {
        timeout: 20_000,
      },
    );
    // A few seconds of timeline, then the picture for the README.
    await sleep(4000);
    const timeline = await publisher.getAttribute('#watch-timeline', 'aria-label');
    expect(timeline).toMatch(new RegExp(`track ${streamId}/\\d+ now (${EMOTION_LABELS.join('|')})`));
    await publisher.screenshot({ path: join(OUTPUT, 'web-client-watch.png'), fullPage: true });
  });

  it('adds an RTSP camera through the page: it is listed and goes live; removing it removes it and its ffmpeg', async () => {
    // On the publishing page, so that the README's picture shows everything at once.
    const page = publisher;
    const serverPid = server.child.pid ?? -1;

    // A refused URL: the page shows the server's own error code and message.
    await page.getByLabel('Name', { exact: true }).fill('bad');
    await page.getByLabel('RTSP URL').fill('http://127.0.0.1:1/x');
    await page.getByRole('button', { name: 'Add camera' }).click();
    const direct = await fetch(`${server.url}/api/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bad', url: 'http://127.0.0.1:1/x' }),
    });
    expect(direct.status).toBeGreaterThanOrEqual(400);
    const { error } = (await direct.json()) as { error: { code: string; message: string } };
    const shown = page.locator('#camera-error');
    await expect.poll(() => shown.textContent(), { timeout: 5000 }).toContain(`(${error.code})`);
    expect(await shown.textContent()).toContain(error.message);

    const before = new Set(childProcesses('ffmpeg', serverPid));
    await page.getByLabel('Name', { exact: true }).fill('lobby');
    await page.getByLabel('RTSP URL').fill(`rtsp://127.0.0.1:${rtsp.port}/h264`);
    await page.getByRole('button', { name: 'Add camera' }).click();
    const row = page.locator('#streams-body tr[data-name="lobby"]');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getAttribute('data-kind')).toBe('rtsp');
    expect(await page.locator('#camera-error').textContent()).toBe('');
    const t0 = Date.now();
    await page.waitForSelector('#streams-body tr[data-name="lobby"][data-state="live"]', { timeout: 30_000 });
    console.log(`camera live in the list ${Date.now() - t0} ms after it was listed`);
    const cameraFfmpeg = await until(
      'the camera ffmpeg',
      () => {
        const added = childProcesses('ffmpeg', serverPid).filter((pid) => !before.has(pid));
        return added.length > 0 ? added : undefined;
      },
      10_000,
    );
    // The README's picture shows a face on the webcam (the clip has stretches without one, and a loaded machine slows
    // the analysis down): a screenshot counts when the page had a face both before and after it was taken. For the
    // README, also when the newest face event was captured less than 0.5 s before it (the box then sits on the face).
    const forDocs = process.env.UPDATE_DOCS_SCREENSHOT === '1';
    const good = (fresh: boolean) =>
      page.evaluate((fresh) => {
        const data = document.querySelector<HTMLElement>('#publish')?.dataset;
        return Number(data?.faces) > 0 && (!fresh || Date.now() - Number(data?.latestTs) < 500);
      }, fresh);
    let picture: Buffer | undefined;
    const end = Date.now() + (forDocs ? 90_000 : 30_000);
    while (!picture && Date.now() < end) {
      if (!(await good(forDocs))) {
        await sleep(20);
        continue;
      }
      const shot = await page.screenshot({ fullPage: true });
      if (await good(false)) picture = shot;
    }
    expect(picture).toBeDefined();
    writeFileSync(join(OUTPUT, 'web-client.png'), picture as Buffer);
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      // The README's picture is a tracked file: refreshed on request only, not by every test run.
      mkdirSync(join(ROOT, 'docs/img'), { recursive: true });
      writeFileSync(join(ROOT, 'docs/img/web-client.png'), picture as Buffer);
    }

    const remove = row.getByRole('button', { name: /^Remove/ });
    await remove.click();
    await expect.poll(() => remove.textContent()).toBe('Confirm remove');
    await remove.click();
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    await until(
      'the camera ffmpeg to exit',
      () => (cameraFfmpeg.some((pid) => childProcesses('ffmpeg', serverPid).includes(pid)) ? undefined : true),
      10_000,
    );
    const listed = (await (await fetch(`${server.url}/api/streams`)).json()) as { name: string }[];
    expect(listed.map((s) => s.name)).not.toContain('lobby');
  });

  it('with tokens configured, the page is refused without them and works with the right ones', async () => {
    const tokens = {
      publish: 'publish-token-0123456789',
      subscribe: 'subscribe-token-0123456789',
      admin: 'admin-token-0123456789',
    };
    const phase = timer('tokens');
    const guarded = await startServer(join(dir, 'guarded'), [
      'auth:',
      `  publishToken: ${tokens.publish}`,
      `  subscribeToken: ${tokens.subscribe}`,
      `  adminToken: ${tokens.admin}`,
    ]);
    phase('server started');
    const page = await context.newPage();
    try {
      await page.goto(guarded.url);
      await page.waitForSelector('html[data-ready="1"]', { timeout: 10_000 });
      // No token: listing, publishing, subscribing and adding a camera are all refused, and the page says so.
      await expect.poll(() => page.textContent('#streams-status'), { timeout: 10_000 }).toContain('(AUTH_REQUIRED)');
      await page.getByRole('button', { name: 'Start webcam' }).click();
      await page.waitForSelector('#publish[data-state="error"]', { timeout: 15_000 });
      expect(await page.getAttribute('#log', 'data-events')).not.toBe('open');
      await page.getByLabel('Name', { exact: true }).fill('guarded');
      await page.getByLabel('RTSP URL').fill(`rtsp://127.0.0.1:${rtsp.port}/vp8`);
      await page.getByRole('button', { name: 'Add camera' }).click();
      await expect.poll(() => page.textContent('#camera-error'), { timeout: 5000 }).toContain('(AUTH_REQUIRED)');

      phase('refusals shown');
      // The subscribe token for everything: reading works, adding a camera is forbidden (a wrong token, 403).
      await page.getByLabel('Access token').fill(tokens.subscribe);
      await page.getByRole('button', { name: 'Save tokens' }).click();
      await page.waitForSelector('#log[data-events="open"]', { timeout: 15_000 }).catch(async (err: Error) => {
        throw new Error(`${err.message}\nlog status: ${await page.textContent('#log-status')}\n${guarded.output()}`);
      });
      await expect.poll(() => page.textContent('#streams-status'), { timeout: 5000 }).toMatch(/^0 streams/);
      await page.getByRole('button', { name: 'Add camera' }).click();
      await expect.poll(() => page.textContent('#camera-error'), { timeout: 5000 }).toContain('(AUTH_FORBIDDEN)');

      phase('subscribe token works, admin refused');
      // Per-role tokens: publishing and camera management work too.
      await page.getByText('Per-role tokens').click();
      await page.getByLabel('Publish', { exact: true }).fill(tokens.publish);
      await page.getByLabel('Admin', { exact: true }).fill(tokens.admin);
      await page.getByRole('button', { name: 'Save tokens' }).click();
      await page.getByRole('button', { name: 'Add camera' }).click();
      const row = page.locator('#streams-body tr[data-name="guarded"]');
      await row.waitFor({ timeout: 10_000 });
      await page.getByRole('button', { name: 'Start webcam' }).click();
      await page.waitForSelector('#publish[data-state="live"]', { timeout: 20_000 });
      // The event log's subscription (subscribe token) holds and delivers: the new stream's state events arrive.
      const published = await page.getAttribute('#publish', 'data-stream-id');
      await page.waitForSelector(`#log-list li[data-type="stream.state"][data-stream="${published}"]`, {
        timeout: 15_000,
      });
      expect(await page.getAttribute('#log', 'data-events')).toBe('open');
      // Tokens are secrets: the page keeps them out of its own text.
      const text = (await page.textContent('body')) ?? '';
      for (const token of Object.values(tokens)) expect(text).not.toContain(token);
      const remove = row.getByRole('button', { name: /^Remove/ });
      await remove.click();
      await remove.click();
      await row.waitFor({ state: 'detached', timeout: 10_000 });
      phase('publish and admin work with their tokens');
    } finally {
      await page.close();
      expect(await stopServer(guarded)).toBe(0);
      phase('server stopped');
    }
  });
});
