export { formatLineProtocol } from './format-line-protocol.js'
export { parseLineProtocol } from './parse-line-protocol.js'
export {
  defaultLineParseOptions,
  type LineFieldValue,
  type LineParseOptions,
  type LinePoint,
  type LinePrecision,
} from './types.js'
