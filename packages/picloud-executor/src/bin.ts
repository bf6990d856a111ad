#!/usr/bin/env node
import { main } from "./executor.ts";

await main();
