// Rewrites the generated field tables of docs/events.md from src/core/events/eventSchema.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withGeneratedTables } from '../src/core/events/eventDocs';

const path = join(__dirname, '..', 'docs', 'events.md');
writeFileSync(path, withGeneratedTables(readFileSync(path, 'utf8')));
