// The agent image's pure pieces, for tests and tools; the server itself is dist/main.js.
export { loadConfig, type AgentConfig, type ConfigResult } from './config.js';
export { buildCliEnv, buildSdkOptions, buildSessionHalf, noProxyList, type AgentDirs, type SdkInputs, type SessionHalf } from './sdk-options.js';
export { BerthSessionStore } from './session-store.js';
export { projectKeyFor } from './project-key.js';
export { parseBootstrap } from './bootstrap.js';
export { Prestarter, type WarmProcess } from './prestart.js';
export { runTurn, decide, type TurnResult, type StopRequest } from './turn.js';
export { TurnLog, type LoggedFrame, type TurnLogLimits } from './turn-log.js';
export { decideTool, permissionCallbacks } from './permissions.js';
export { Approvals } from './approvals.js';
export { parseMessageRequest, parseApprovalAnswer } from './requests.js';
