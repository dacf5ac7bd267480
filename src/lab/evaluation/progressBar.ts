/** A one-line progress bar on stderr, drawn only on a terminal (logs and CI stay clean). */
export function progressBar(total: number, label: string, stream: NodeJS.WriteStream = process.stderr) {
  const start = Date.now();
  let last = 0;
  return {
    update(done: number): void {
      if (!stream.isTTY) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const filled = Math.round((done / Math.max(1, total)) * width);
      const rate = done / Math.max(0.001, (now - start) / 1000);
      stream.write(
        `\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} ${rate.toFixed(0)}/s `,
      );
    },
    done(): void {
      if (stream.isTTY) stream.write('\n');
    },
  };
}
