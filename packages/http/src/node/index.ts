export * from "./drain.ts";
export * from "./listen.ts";
export * from "./main.ts";
export * from "./service.ts";
