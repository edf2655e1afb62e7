// The official extension template's Jest setup: JupyterLab's shared config (ts-jest with
// tsconfig.test.json, a jsdom environment with the shims JupyterLab packages need).
const jestJupyterLab = require('@jupyterlab/testing/lib/jest-config');

// ES-module-only packages that must be transpiled for Jest: JupyterLab's own list plus
// '@jupyterlab/' (the application package imports ES-module code from them).
const esModules = [
  '@codemirror',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyter/ydoc',
  '@jupyterlab/',
  '@marijn',
  '@microsoft',
  'color',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  // The built labextension has its own copy of package.json; keep Jest out of it.
  modulePathIgnorePatterns: ['<rootDir>/course_tracker/'],
  collectCoverageFrom: ['src/**/*.{ts,tsx}', '!src/**/*.d.ts', '!src/__tests__/**'],
  coverageReporters: ['text-summary'],
  reporters: ['default'],
  testRegex: 'src/__tests__/.*\\.spec\\.tsx?$',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
