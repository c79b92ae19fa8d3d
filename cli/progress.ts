// A progress line on stderr for long transfers; silent when stderr is not a terminal so that
// logs and tests stay clean.
export function progressReporter(label: string, total: number) {
  const enabled = process.stderr.isTTY === true && total > 8 * 1024 * 1024;
  let done = 0;
  let lastDrawn = 0;
  const started = Date.now();
  const draw = () => {
    const share = total === 0 ? 1 : done / total;
    const width = 30;
    const filled = Math.round(share * width);
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = done / seconds / (1024 * 1024);
    process.stderr.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${rate.toFixed(1)} MiB/s`,
    );
  };
  return {
    advance(bytes: number) {
      done += bytes;
      if (!enabled) return;
      const now = Date.now();
      if (now - lastDrawn > 200) {
        lastDrawn = now;
        draw();
      }
    },
    done() {
      if (!enabled) return;
      draw();
      process.stderr.write('\n');
    },
  };
}
