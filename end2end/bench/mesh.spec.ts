// Mesh size: for 2, 3 and 4 participants (each a Chromium context with the fake camera and
// microphone, all on this machine), the time from the last participant's Join to every page
// showing live video from every other, and the frames per second then received per remote
// video. Three runs per size; medians are printed, with the machine's core count.
import { expect, test, type Page } from '@playwright/test';
import os from 'node:os';
import { fakeMediaLaunchOptions } from '../playwright.config';
import { closeAll, createRoom, createToken, joinAs, openRoom, type Person } from '../tests/support';

test.use({ launchOptions: fakeMediaLaunchOptions });

const NAMES = ['Ana', 'Ben', 'Cy', 'Dee'];
const RUNS = 3;

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

test('mesh: connect time and frame rate by room size', async ({ browser }) => {
  const rows: string[] = [];
  for (const size of [2, 3, 4]) {
    const connect: number[] = [];
    const fps: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const room = await createRoom();
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
          .poll(async () => (await liveRemote(person.page)).live, { timeout: 120_000, intervals: [100] })
          .toBe(size - 1);
      }
      connect.push((Date.now() - lastJoin) / 1000);
      const before = await liveRemote(people[0].page);
      await people[0].page.waitForTimeout(3_000);
      const after = await liveRemote(people[0].page);
      fps.push((after.frames - before.frames) / 3 / (size - 1));
      await closeAll(...people);
    }
    rows.push(
      `| ${size} | ${median(connect).toFixed(1)} s | ${connect.map((t) => t.toFixed(1)).join(', ')} | ${median(fps).toFixed(1)} |`,
    );
  }
  console.log(
    [
      '',
      `WebRTC mesh on this machine (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}), every participant a headless Chromium with the fake 640x360 camera, ${RUNS} runs per size:`,
      '| participants | connect (median) | runs | frames/s per remote video (median) |',
      '|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
});
