/**
 * One process at a time may open the embedded database (PGlite keeps no lock of its own, and two
 * processes writing the same files corrupt them). A `dpq.pid` file in DPQ_DATA_DIR names the owner;
 * a file whose process is gone is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the data dir for this process; returns the release function. */
export function lockDataDir(dir: string): () => void {
  const file = path.join(dir, 'dpq.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(file, 'utf8'));
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new DataDirInUseError(`DPQ_DATA_DIR: ${dir} is in use by process ${owner}; the embedded database serves one process at a time (use the HTTP API, or stop that process)`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new DataDirInUseError(`DPQ_DATA_DIR: ${dir} could not be locked`);
}
