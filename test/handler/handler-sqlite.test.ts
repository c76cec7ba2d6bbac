import { corpusSuite } from './corpus-run.js';

corpusSuite('sqlite');
