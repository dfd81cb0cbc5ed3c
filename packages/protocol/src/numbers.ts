// 64-bit fields (seq, timestamps, coin values) stay within 2^53, so they are plain JS numbers on
// decode too: without long.js protobufjs reads them as numbers. This must run before the
// generated module loads, because field defaults are computed at load time.
import * as protobuf from 'protobufjs/minimal';

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();
