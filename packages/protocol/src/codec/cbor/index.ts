export {
  decodeCbor,
  defaultCborDecodeOptions,
  type CborDecodeOptions,
  type CborMap,
  type CborValue,
} from './decode-cbor.js'
export { encodeCbor, type CborEncodeOptions } from './encode-cbor.js'
