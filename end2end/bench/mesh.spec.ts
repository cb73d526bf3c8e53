// Mesh against SFU by size: for 2 to 6 participants (each a Chromium context with the fake
// camera and microphone, all on this machine), the time from the last participant's Join to
// every page showing live video from every other, and the frames per second then received per
// remote video; once as a mesh (`sfu_switchover` above the size) and, when a Janus is configured
// (KNOCK_JANUS_URL, `make bench-mesh` starts one), once through it (`sfu_switchover: 0.5`).
// KNOCK_BENCH_SIZES (e.g. `2,3`) and KNOCK_BENCH_RUNS narrow it. Medians are printed, with the
// machine's core count.
import { expect, test, type Page } from '@playwright/test';
import os from 'node:os';
import { fakeMediaLaunchOptions } from '../playwright.config';
import { api, closeAll, createRoom, createToken, joinAs, openRoom, type Person } from '../tests/support';

test.use({ launchOptions: fakeMediaLaunchOptions });

const NAMES = ['Ana', 'Ben', 'Cy', 'Dee', 'Eve', 'Fay'];
const RUNS = Number(process.env.KNOCK_BENCH_RUNS ?? 3);
const SIZES = (process.env.KNOCK_BENCH_SIZES ?? '2,3,4,5,6').split(',').map(Number);
const TOPOLOGIES = process.env.KNOCK_JANUS_URL ? (['mesh', 'sfu'] as const) : (['mesh'] as const);

/** Remote videos on `page` that show frames, and their total decoded frames. */
async function liveRemote(page: Page): Promise<{ live: number; frames: number }> {
  return page.evaluate(() => {
    const videos = Array.from(
      document.querySelectorAll<HTMLVideoElement>('figure.tile:not([data-you]) video'),
    );
    const live = videos.filter((video) => !video.hidden && video.videoWidth > 0);
    return {
      live: live.length,
      frames: live.reduce((sum, video) => sum + video.getVideoPlaybackQuality().totalVideoFrames, 0),
    };
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** One size in one topology: connect times and frames per second per remote video. */
async function measure(
  browser: any,
  size: number,
  topology: 'mesh' | 'sfu',
): Promise<{ connect: number[]; fps: number[] }> {
  const connect: number[] = [];
  const fps: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const room = await createRoom();
    await api('POST', `/v1/rooms/${room}`, {
      properties: { sfu_switchover: topology === 'sfu' ? 0.5 : 100 },
    });
    const people: Person[] = [];
    let lastJoin = 0;
    for (const name of NAMES.slice(0, size)) {
      const person = await openRoom(browser, room, {
        token: await createToken(room, { is_owner: true, user_name: name }),
      });
      lastJoin = Date.now();
      await joinAs(person.page, room, name);
      people.push(person);
    }
    for (const person of people) {
      await expect
        .poll(async () => (await liveRemote(person.page)).live, { timeout: 180_000, intervals: [100] })
        .toBe(size - 1);
    }
    connect.push((Date.now() - lastJoin) / 1000);
    const before = await liveRemote(people[0].page);
    await people[0].page.waitForTimeout(3_000);
    const after = await liveRemote(people[0].page);
    fps.push((after.frames - before.frames) / 3 / (size - 1));
    await closeAll(...people);
  }
  return { connect, fps };
}

test('mesh and SFU: connect time and frame rate by room size', async ({ browser }) => {
  test.setTimeout(3_600_000);
  const rows: string[] = [];
  for (const size of SIZES) {
    const cells: string[] = [];
    for (const topology of TOPOLOGIES) {
      const { connect, fps } = await measure(browser, size, topology);
      cells.push(
        `${median(connect).toFixed(1)} s (${connect.map((t) => t.toFixed(1)).join(', ')})`,
        median(fps).toFixed(1),
      );
    }
    rows.push(`| ${size} | ${cells.join(' | ')} |`);
  }
  const columns = TOPOLOGIES.flatMap((t) => [`${t}: connect (median; runs)`, `${t}: frames/s per remote video`]);
  console.log(
    [
      '',
      `WebRTC mesh${TOPOLOGIES.length > 1 ? ' and SFU (Janus)' : ''} on this machine (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}), every participant a headless Chromium with the fake 640x360 camera, ${RUNS} runs per size:`,
      `| participants | ${columns.join(' | ')} |`,
      `|---|${columns.map(() => '---').join('|')}|`,
      ...rows,
      '',
    ].join('\n'),
  );
});
