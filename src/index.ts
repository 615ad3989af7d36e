export { compile } from "./compile.ts";
