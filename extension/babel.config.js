// Jest transpiles the ES-module-only dependencies listed in jest.config.js with Babel.
module.exports = require('@jupyterlab/testing/lib/babel-config');
