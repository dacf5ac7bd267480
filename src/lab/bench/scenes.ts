import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../../media/ffmpegPath.js';

/**
 * Test and benchmark scenes made from the shared data with ffmpeg: a still room (an idle camera) and a face walking
 * into it. The room is the top of the first frame of `facenetpt_video.mp4` (the arch and sign of the Royal Opera
 * House, no people), scaled to 640x480, with a little temporal noise as a real sensor has. 30 fps H264.
 */
const ROOM = 'scale=640:-2,crop=213:160:200:0,scale=640:480';
const NOISE = 'noise=alls=6:allf=t+u,format=yuv420p';
const H264 = ['-r', '30', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60'];

function ffmpeg(args: string[]): void {
  const r = spawnSync(resolveFfmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
}

/** A still room for `seconds`, as an H264 file at `out`. */
export function stillRoomVideo(dataDir: string, out: string, seconds: number): string {
  const frame = `${out}.png`;
  ffmpeg(['-i', join(dataDir, 'video', 'facenetpt_video.mp4'), '-frames:v', '1', '-vf', ROOM, frame]);
  ffmpeg(['-loop', '1', '-i', frame, '-t', String(seconds), '-vf', NOISE, ...H264, out]);
  return out;
}

/**
 * The still room, and from `enterS` a face photo (`single_face_emotion_labeled/happy__...`, 320 px wide) sliding in
 * from the left at 600 px/s until it stops at x = 160; `seconds` long.
 */
export function walkInVideo(dataDir: string, out: string, enterS: number, seconds: number): string {
  const frame = `${out}.room.png`;
  ffmpeg(['-i', join(dataDir, 'video', 'facenetpt_video.mp4'), '-frames:v', '1', '-vf', ROOM, frame]);
  const face = join(dataDir, 'photos', 'single_face_emotion_labeled', 'happy__faceapijs_happy.jpg');
  const x = `if(lt(t,${enterS}),-w-10,min(-w+(t-${enterS})*600,160))`;
  const graph = `[1]scale=320:-2[f];[0][f]overlay=x='${x}':y=100:shortest=1,${NOISE}`;
  ffmpeg([
    '-loop',
    '1',
    '-i',
    frame,
    '-loop',
    '1',
    '-i',
    face,
    '-filter_complex',
    graph,
    '-t',
    String(seconds),
    ...H264,
    out,
  ]);
  return out;
}
