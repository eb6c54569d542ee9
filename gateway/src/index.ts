export * from "./store/route-store.js";
export * from "./store/memory-route-store.js";
export * from "./store/redis-route-store.js";
