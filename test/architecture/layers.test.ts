/**
 * The layer rule of docs/architecture.md, checked on every import in src/ (type-only imports
 * included): an import points to the same folder or to a lower layer, never up, and never
 * sideways between the peers of a layer. Two more rules: only the edges translate (i18n), and
 * every SQL statement lives in src/store/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');

/** Lowest first. A folder may import folders of lower layers; peers in a layer may not import each other. */
export const LAYERS: readonly (readonly string[])[] = [
  ['domain', 'config', 'i18n'],
  ['providers', 'crypto', 'net'],
  ['schemas'],
  ['store'],
  ['oauth', 'mail'],
  ['tokens', 'handler'],
  ['services'],
  ['presenters', 'jobs'],
  ['ui'],
  ['http', 'cli'],
  ['main'],
];

/** The folders that may turn message keys into text. */
const TRANSLATING = new Set(['presenters', 'ui', 'http', 'cli', 'main', 'i18n']);

interface Import {
  readonly file: string;
  readonly from: string;
  readonly to: string;
  readonly line: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const folderOf = (file: string) => relative(SRC, file).split(sep)[0] ?? '';

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const match of text.matchAll(pattern)) {
    const target = resolve(dirname(file), match[1] ?? '');
    found.push({
      file: relative(SRC, file),
      from: folderOf(file),
      to: folderOf(target),
      line: text.slice(0, match.index).split('\n').length,
    });
  }
  return found;
}

const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
const files = sourceFiles(SRC);
const imports = files.flatMap(importsOf);

describe('architecture: layers (docs/architecture.md)', () => {
  it('every folder of src/ has a layer', () => {
    const folders = new Set(files.map(folderOf));
    const unplaced = [...folders].filter((f) => !rank.has(f));
    assert.deepEqual(unplaced, [], 'add the folder to LAYERS and docs/architecture.md');
  });

  it('no import points up or sideways', () => {
    const wrong = imports
      .filter((i) => i.from !== i.to && (rank.get(i.to) ?? 99) >= (rank.get(i.from) ?? -1))
      .map((i) => `${i.file}:${i.line} imports ${i.to}/`);
    assert.deepEqual(wrong, []);
  });

  it('only the edges translate: protocol and service code returns message keys', () => {
    const wrong = imports
      .filter((i) => i.to === 'i18n' && !TRANSLATING.has(i.from))
      .map((i) => `${i.file}:${i.line} imports i18n/`);
    assert.deepEqual(wrong, []);
  });

  it('every SQL statement lives in src/store/', () => {
    const statement = /\.(?:selectFrom|insertInto|updateTable|deleteFrom|replaceInto)\(|\bsql`/;
    const wrong = files
      .filter((f) => folderOf(f) !== 'store' && statement.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    assert.deepEqual(wrong, []);
  });

  it('the checker sees imports (it would fail on an upward one)', () => {
    const sample = imports.find((i) => i.from === 'http' && i.to === 'services');
    assert.ok(sample, 'http imports services somewhere');
    assert.ok((rank.get('services') ?? 99) < (rank.get('http') ?? -1));
  });
});
