// The agent image's pure pieces, for tests and tools; the server itself is dist/main.js.
export { loadConfig, type AgentConfig, type ConfigResult } from './config.js';
export { buildCliEnv, buildSdkOptions, noProxyList, type AgentDirs, type SdkInputs } from './sdk-options.js';
export { BerthSessionStore } from './session-store.js';
export { parseBootstrap } from './bootstrap.js';
export { Prestarter, type WarmProcess } from './prestart.js';
export { runTurn, type TurnResult } from './turn.js';
export { FrameWriter } from './frames.js';
