#!/usr/bin/env node
import { main } from "./orchestrator.ts";

await main();
