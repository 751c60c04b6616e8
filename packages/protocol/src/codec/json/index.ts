export { defaultJsonParseOptions, parseJson, type JsonParseOptions } from './parse-json.js'
