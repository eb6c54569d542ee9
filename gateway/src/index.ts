export * from "./store/index.js";
export * from './config.js';
export * from './log.js';
