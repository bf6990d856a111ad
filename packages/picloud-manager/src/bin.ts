#!/usr/bin/env node
import { main } from "./manager.ts";

await main();
