/** dpq's version, from package.json (for `dpq --version` and the OpenAPI document). */
import fs from 'node:fs';

export const VERSION: string = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
