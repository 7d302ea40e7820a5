// Writes docs/errors.md from the error catalogue (tests/errorCatalogue.test.ts checks it is current).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderErrorDocs } from '../errorCatalogue.ts';

writeFileSync(path.resolve(import.meta.dirname, '../../docs/errors.md'), renderErrorDocs());
