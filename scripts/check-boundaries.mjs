// Import boundaries (docs/architecture.md): the engine knows no dialect, connectors know no engine.
// Fails (exit 1) listing every import that crosses a boundary.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const RULES = [
  { from: 'src/core/', forbid: ['src/engine/', 'src/connectors/', 'src/cli/', 'src/api/', 'src/config/', 'src/demo/'] },
  { from: 'src/engine/', forbid: ['src/connectors/', 'src/cli/', 'src/api/', 'src/demo/'] },
  { from: 'src/connectors/', forbid: ['src/engine/', 'src/cli/', 'src/api/', 'src/config/', 'src/demo/'] },
  { from: 'src/config/', forbid: ['src/engine/', 'src/connectors/', 'src/cli/', 'src/api/', 'src/demo/'] },
];
// Connectors may not import each other either (each is loaded lazily by the registry).
const CONNECTOR_DIR = 'src/connectors/';

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const problems = [];
for (const file of files('src')) {
  const rel = file.split(path.sep).join('/');
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from|import\()\s*['"](\.[^'"]+)['"]/g)) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), m[1]));
    for (const rule of RULES) {
      if (rel.startsWith(rule.from) && rule.forbid.some((f) => target.startsWith(f))) {
        problems.push(`${rel} imports ${m[1]} (${rule.from} must not import ${rule.forbid.join(', ')})`);
      }
    }
    if (rel.startsWith(CONNECTOR_DIR) && target.startsWith(CONNECTOR_DIR) && !rel.endsWith('registry.ts')) {
      const own = rel.split('/')[2];
      const other = target.split('/')[2];
      if (own !== other && !target.endsWith('registry')) problems.push(`${rel} imports another connector: ${m[1]}`);
    }
  }
}
if (problems.length) {
  console.error(`import boundaries crossed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('import boundaries: ok');
