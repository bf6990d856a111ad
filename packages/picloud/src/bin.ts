#!/usr/bin/env node
import { main } from "./start.ts";

await main();
